//! `mocha-bench`: see `mocha_bench::cli`.

fn main() -> anyhow::Result<()> {
    mocha_bench::cli::main()
}
