//! An origin server for the engine benchmark that keeps one rate for the
//! life of each TCP connection (nginx's `limit_rate` restarts with every
//! request and grants each a burst, which rewards opening new ones): the
//! test suite's own server, serving one file until killed.
//!
//! `cargo bench --bench origin -- FILE RATE[,RATE…]` prints the file's URL,
//! then serves it; connection i (in accept order) gets `RATES[i % n]` bytes
//! per second. `bench/get-vs-aria2.sh` runs it.

#[allow(dead_code)] // the benchmark uses the server, not every knob of it
#[path = "../tests/it/support/http_server.rs"]
mod http_server;

use http_server::{Resource, TestServer};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [file, rates] = args.as_slice() else {
        eprintln!("usage: origin FILE RATE[,RATE…] (bytes per second per connection)");
        std::process::exit(2);
    };
    let rates: Vec<u64> = match rates.split(',').map(str::parse).collect() {
        Ok(rates) => rates,
        Err(e) => {
            eprintln!("error: invalid rate in {rates:?}: {e}");
            std::process::exit(2);
        }
    };
    let body = match std::fs::read(file) {
        Ok(body) => body,
        Err(e) => {
            eprintln!("error: cannot read {file}: {e}");
            std::process::exit(1);
        }
    };
    let server = TestServer::start([Resource::file("/file", body).rates(&rates)]).await;
    println!("{}", server.url("/file"));
    std::future::pending::<()>().await;
}
