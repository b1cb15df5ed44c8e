//! The online steps over HTTP: a small blocking client for an issuer service. Busy answers (429,
//! 503) are retried after the server's Retry-After, with the core's jittered backoff, a bounded
//! number of times; bodies are size-limited.

use std::io::Read;
use std::time::Duration as StdDuration;

use chrono::Utc;
use vaxpass::Backoff;

use crate::error::{Error, Result};

/// Largest body read (a revocation list of two million entries is about 32 MB).
const MAX_BODY: u64 = 40 << 20;
/// Attempts before giving up on a busy server.
const MAX_ATTEMPTS: u32 = 8;

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub etag: Option<String>,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    fn from(response: ureq::Response) -> Result<Self> {
        let status = response.status();
        let header = |name: &str| response.header(name).map(str::to_owned);
        let (etag, retry_after) = (header("ETag"), header("Retry-After"));
        let mut body = Vec::new();
        response
            .into_reader()
            .take(MAX_BODY + 1)
            .read_to_end(&mut body)
            .map_err(|e| Error::new(format!("reading the answer failed: {e}")))?;
        if body.len() as u64 > MAX_BODY {
            return Err(Error::new("the answer is larger than 40 MB"));
        }
        Ok(Self {
            status,
            etag,
            retry_after,
            body,
        })
    }

    fn busy(&self) -> bool {
        matches!(self.status, 429 | 503)
    }

    /// The JSON error of a 4xx/5xx, or the status alone.
    pub fn error(&self, what: &str) -> Error {
        let message = std::str::from_utf8(&self.body)
            .ok()
            .filter(|b| b.starts_with('{'))
            .unwrap_or("");
        Error::new(format!("{what}: HTTP {} {message}", self.status))
    }
}

/// An issuer service at a base URL.
#[derive(Debug)]
pub struct Server {
    base: String,
    agent: ureq::Agent,
}

impl Server {
    pub fn new(base: &str) -> Result<Self> {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::new(
                "the server URL must start with http:// or https://",
            ));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(StdDuration::from_secs(5))
            .timeout(StdDuration::from_secs(30))
            .build();
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            agent,
        })
    }

    /// One GET, with `If-None-Match` when an ETag is held. No retry: list sync decides that.
    pub fn get(&self, path: &str, if_none_match: Option<&str>) -> Result<Answer> {
        let mut request = self.agent.get(&format!("{}{path}", self.base));
        if let Some(etag) = if_none_match {
            request = request.set("If-None-Match", etag);
        }
        Self::answer(request.call())
    }

    /// A POST, retried while the server says it is busy.
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> Result<Answer> {
        let mut backoff = Backoff::default();
        loop {
            let answer = Self::answer(
                self.agent
                    .post(&format!("{}{path}", self.base))
                    .set("Content-Type", content_type)
                    .send_bytes(body),
            )?;
            if !answer.busy() || backoff.failures() + 1 >= MAX_ATTEMPTS {
                return Ok(answer);
            }
            wait(backoff.after_refusal(answer.retry_after.as_deref(), Utc::now()));
        }
    }

    fn answer(result: std::result::Result<ureq::Response, ureq::Error>) -> Result<Answer> {
        match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => Answer::from(response),
            Err(ureq::Error::Transport(e)) => {
                Err(Error::new(format!("cannot reach the server: {e}")))
            }
        }
    }
}

/// Sleeps for a retry delay.
pub fn wait(delay: chrono::Duration) {
    std::thread::sleep(delay.to_std().unwrap_or_default());
}

/// Attempts allowed for a list fetch.
pub const LIST_ATTEMPTS: u32 = MAX_ATTEMPTS;
