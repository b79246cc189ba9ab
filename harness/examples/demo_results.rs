//! Writes the synthetic demo results (`harness::report::demo`) to a folder, for the
//! browser test of the leaderboard site: `cargo run -p harness --example demo_results -- DIR`.

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: demo_results DIR (results root to write)");
    harness::report::demo::write_demo_results(std::path::Path::new(&dir))
        .expect("writing demo results");
    println!("demo results written to {dir}");
}
