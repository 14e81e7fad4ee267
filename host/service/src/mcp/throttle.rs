//! Abuse limits of the HTTP routes: a deadline for reading a request body (a
//! client that trickles its body gets `408`), a cap on its size (`413`), and a
//! per-principal request rate (a token bucket; `429` with `Retry-After`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::auth::Principal;

use super::authn::MAX_BODY_BYTES;

/// Default [`HttpLimits::body_timeout`] in seconds.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 30;
/// Default [`HttpLimits::rate_per_second`].
pub const DEFAULT_RATE_PER_SECOND: u32 = 1000;
/// Default [`HttpLimits::burst`].
pub const DEFAULT_BURST: u32 = 2000;

/// Per-request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time to receive a whole request body once the head has arrived.
    pub body_timeout: Duration,
    /// Requests per second allowed per principal, sustained (0: no limit).
    pub rate_per_second: u32,
    /// Requests a principal may send at once above the rate.
    pub burst: u32,
}

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            body_timeout: Duration::from_secs(DEFAULT_BODY_TIMEOUT_SECS),
            rate_per_second: DEFAULT_RATE_PER_SECOND,
            burst: DEFAULT_BURST,
        }
    }
}

/// Buckets of request tokens, one per principal.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub(crate) fn new(limits: &HttpLimits) -> RateLimiter {
        RateLimiter {
            rate: f64::from(limits.rate_per_second),
            burst: f64::from(limits.burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; `Err(wait)` when its bucket is empty.
    pub(crate) fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            // Bounded memory: forget full buckets (their principals lose nothing).
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.rate))
        }
    }
}

/// Reads the request body within the deadline and the size cap.
pub(crate) async fn read_body(body_timeout: Duration, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match tokio::time::timeout(body_timeout, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, format!("the request body is over {MAX_BODY_BYTES} bytes\n"))
                .into_response();
        }
        Err(_) => {
            let mut response =
                (StatusCode::REQUEST_TIMEOUT, format!("the request body did not arrive within {body_timeout:?}\n"))
                    .into_response();
            response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
            return response;
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Applies the per-principal rate (after authentication).
pub(crate) async fn rate_limit(limiter: &RateLimiter, request: Request, next: Next) -> Response {
    let key = request.extensions().get::<Principal>().map(Principal::name);
    if let Some(key) = key
        && let Err(wait) = limiter.take(&key, Instant::now())
    {
        {
            let seconds = wait.as_secs().max(1);
            tracing::warn!(principal = %key, "rate limit: request refused");
            let mut response =
                (StatusCode::TOO_MANY_REQUESTS, format!("too many requests from `{key}`: retry after {seconds} s\n"))
                    .into_response();
            if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_the_burst_then_refuses_until_it_refills() {
        let limiter = RateLimiter::new(&HttpLimits { rate_per_second: 10, burst: 3, ..HttpLimits::default() });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take("a", t0).is_ok());
        }
        let wait = limiter.take("a", t0).unwrap_err();
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        assert!(limiter.take("b", t0).is_ok(), "buckets are per principal");
        assert!(limiter.take("a", t0 + Duration::from_millis(150)).is_ok());
    }
}
