module rekor-backfill/harness/key-oracle/golower

go 1.25
