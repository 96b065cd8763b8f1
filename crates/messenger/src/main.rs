//! Boots Mocha Messenger: logging, then the window. Settings live in the platform
//! config folder unless `MOCHA_MESSENGER_CONFIG_DIR` says otherwise.

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    mocha_messenger::run(mocha_messenger::AppEnv::from_platform())
        .map_err(|e| anyhow::anyhow!("the window could not be opened: {e}"))
}
