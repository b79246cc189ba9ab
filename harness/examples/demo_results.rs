//! Writes the synthetic demo results (`harness::report::demo`) to a folder, and the
//! demo claim files to a second folder if given, for the browser test of the
//! leaderboard site: `cargo run -p harness --example demo_results -- DIR [CLAIMS_DIR]`.

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .expect("usage: demo_results DIR [CLAIMS_DIR] (results root to write)");
    harness::report::demo::write_demo_results(std::path::Path::new(&dir))
        .expect("writing demo results");
    println!("demo results written to {dir}");
    if let Some(claims) = args.next() {
        harness::report::demo::write_demo_claims(std::path::Path::new(&claims))
            .expect("writing demo claims");
        println!("demo claims written to {claims}");
    }
}
