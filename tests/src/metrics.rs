//! Reading a controller's Prometheus `/metrics` endpoint, as the tests and the benchmark do.

/// The sum of the samples of metric `name` (every line starting with it) served at
/// `http://127.0.0.1:{port}/metrics`; 0 when it cannot be read.
pub async fn sum(port: u16, name: &str) -> f64 {
    let url = format!("http://127.0.0.1:{port}/metrics");
    let Ok(response) = reqwest::get(&url).await else {
        return 0.0;
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .sum()
}
