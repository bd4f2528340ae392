//! The listening server: an accept thread feeding a cached thread pool, one
//! keep-alive connection per thread.

use std::io::{self, BufReader};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::api::{self, Action};
use crate::control::Control;
use crate::http::{self, ReadError, Response};
use crate::log::Log;
use crate::pool::Pool;

/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// A running imitation of a Rekor server. Dereferences to its [`Control`],
/// so a test writes `server.set_size(n)` or `server.inject(...)`. Stops when
/// dropped.
pub struct ReplayServer {
    addr: SocketAddr,
    control: Arc<Control>,
    stopping: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl ReplayServer {
    /// Serves `log` on a free loopback port.
    pub fn start(log: Log) -> io::Result<ReplayServer> {
        ReplayServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), log)
    }

    /// Serves `log` on `addr`.
    pub fn bind(addr: SocketAddr, log: Log) -> io::Result<ReplayServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let control = Arc::new(Control::new(log));
        let stopping = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let control = control.clone();
            let stopping = stopping.clone();
            thread::Builder::new()
                .name("replay-accept".into())
                .spawn(move || accept_loop(&listener, control, &stopping))?
        };
        Ok(ReplayServer {
            addr,
            control,
            stopping,
            acceptor: Some(acceptor),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Stops accepting and closes every connection. Idempotent.
    pub fn stop(&mut self) {
        let Some(acceptor) = self.acceptor.take() else {
            return;
        };
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip([127, 0, 0, 1].into());
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        let _ = acceptor.join();
        self.control.drop_connections();
    }
}

impl Deref for ReplayServer {
    type Target = Control;

    fn deref(&self) -> &Control {
        &self.control
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: &TcpListener, control: Arc<Control>, stopping: &AtomicBool) {
    let pool = {
        let control = control.clone();
        Pool::new(move |stream| serve_connection(&control, stream))
    };
    for conn in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        match conn {
            Ok(stream) => pool.dispatch(stream),
            // Out of descriptors or an aborted handshake: keep serving.
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve_connection(control: &Control, stream: TcpStream) {
    let id = control.register(&stream);
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    if let Ok(read_half) = stream.try_clone() {
        let mut reader = BufReader::new(read_half);
        let mut writer = &stream;
        loop {
            let req = match http::read_request(&mut reader) {
                Ok(req) => req,
                Err(ReadError::Closed | ReadError::Io(_)) => break,
                Err(ReadError::Bad(msg)) => {
                    let _ = Response::error(400, &msg).write_to(&mut writer, false, false);
                    break;
                }
            };
            match api::handle(control, &req, id) {
                Action::Respond(resp) => {
                    let sent = resp.write_to(&mut writer, req.keep_alive, req.http10);
                    if sent.is_err() || !req.keep_alive {
                        break;
                    }
                }
                Action::Drop => break,
                Action::Truncate(resp) => {
                    let _ = resp.write_truncated(&mut writer);
                    break;
                }
            }
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    control.unregister(id);
}
