//! A cached pool of connection threads.
//!
//! A keep-alive client holds its connection, and so a thread, for a whole
//! run; a fixed-size pool would leave new connections queued behind idle
//! ones. So an idle thread is reused when there is one, a new thread is
//! started when there is not, and a thread left idle for a while exits.
//! Clients that open a connection per request (the Go tool by default) thus
//! pay no thread start per request.

use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

/// How long a thread waits for a connection before exiting.
const IDLE_EXIT: Duration = Duration::from_secs(30);

type Handler = Arc<dyn Fn(TcpStream) + Send + Sync>;

/// Dropping the pool closes the channel: threads exit once their current
/// connection ends (the server shuts live connections down itself).
pub struct Pool {
    tx: Sender<TcpStream>,
    rx: Receiver<TcpStream>,
    /// Threads waiting for a connection that no dispatch has claimed yet.
    /// Invariant: queued connections + idle <= threads waiting, so every
    /// queued connection has a thread that will take it.
    idle: Arc<AtomicUsize>,
    /// Threads alive (for tests and stats).
    threads: Arc<AtomicUsize>,
    handler: Handler,
}

impl Pool {
    pub fn new(handler: impl Fn(TcpStream) + Send + Sync + 'static) -> Pool {
        let (tx, rx) = crossbeam_channel::unbounded();
        Pool {
            tx,
            rx,
            idle: Arc::new(AtomicUsize::new(0)),
            threads: Arc::new(AtomicUsize::new(0)),
            handler: Arc::new(handler),
        }
    }

    /// Hands a connection to an idle thread, or to a new one.
    pub fn dispatch(&self, conn: TcpStream) {
        if !claim(&self.idle) {
            self.spawn();
        }
        // The receiver lives in `self`, so the channel is open.
        let _ = self.tx.send(conn);
    }

    #[cfg(test)]
    fn threads(&self) -> usize {
        self.threads.load(Ordering::SeqCst)
    }

    fn spawn(&self) {
        let rx = self.rx.clone();
        let idle = self.idle.clone();
        let threads = self.threads.clone();
        let handler = self.handler.clone();
        threads.fetch_add(1, Ordering::SeqCst);
        let spawned = thread::Builder::new()
            .name("replay-conn".into())
            .spawn(move || {
                worker(&rx, &idle, &*handler);
                threads.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            // Out of threads: the connection waits for a busy one to free up.
            self.threads.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Takes one idle thread for a new connection, if any is unclaimed.
fn claim(idle: &AtomicUsize) -> bool {
    idle.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn worker(rx: &Receiver<TcpStream>, idle: &AtomicUsize, handler: &(dyn Fn(TcpStream) + Sync)) {
    loop {
        match rx.recv_timeout(IDLE_EXIT) {
            Ok(conn) => {
                handler(conn);
                idle.fetch_add(1, Ordering::SeqCst);
            }
            // Leave only by withdrawing an unclaimed idle slot; if every slot
            // is claimed, a connection is on its way and someone must wait.
            Err(RecvTimeoutError::Timeout) => {
                if claim(idle) {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    #[test]
    fn long_lived_connections_do_not_block_new_ones() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // Each handler echoes one byte per read until the peer closes.
        let pool = Pool::new(|mut c: TcpStream| {
            let mut b = [0u8; 1];
            while matches!(c.read(&mut b), Ok(1)) {
                let _ = c.write_all(&b);
            }
        });
        let (done_tx, done_rx) = mpsc::channel();
        let acceptor = thread::spawn(move || {
            for _ in 0..3 {
                let (c, _) = listener.accept().unwrap();
                pool.dispatch(c);
            }
            done_rx.recv().unwrap();
            pool.threads()
        });
        // Three connections held open at the same time all get answers.
        let mut clients: Vec<TcpStream> =
            (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
        for (i, c) in clients.iter_mut().enumerate() {
            c.write_all(&[i as u8]).unwrap();
            let mut b = [0u8; 1];
            c.read_exact(&mut b).unwrap();
            assert_eq!(b[0], i as u8);
        }
        done_tx.send(()).unwrap();
        assert_eq!(acceptor.join().unwrap(), 3);
    }

    #[test]
    fn idle_threads_are_reused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let pool = Pool::new(|mut c: TcpStream| {
            let _ = c.write_all(b"x");
        });
        for _ in 0..20 {
            let mut client = TcpStream::connect(addr).unwrap();
            let (c, _) = listener.accept().unwrap();
            pool.dispatch(c);
            let mut b = [0u8; 1];
            client.read_exact(&mut b).unwrap();
            // Give the thread time to come back to the idle list.
            for _ in 0..100 {
                if pool.idle.load(Ordering::SeqCst) == 1 {
                    break;
                }
                thread::sleep(Duration::from_millis(2));
            }
        }
        assert_eq!(pool.threads(), 1, "one sequential client needs one thread");
    }
}
