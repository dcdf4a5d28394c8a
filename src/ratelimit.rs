//! A sliding-window rate limit: at most `limit` hits per window per key. Pure; the Worker
//! keeps one window per client address and endpoint in a small Durable Object.

use std::collections::VecDeque;

#[derive(Debug, Default, Clone)]
pub struct Window {
    hits: VecDeque<u64>,
}

impl Window {
    /// Records a hit at `now_ms` if allowed; otherwise returns the seconds until one is.
    pub fn hit(&mut self, now_ms: u64, limit: u32, window_ms: u64) -> Result<(), u64> {
        while self
            .hits
            .front()
            .is_some_and(|&t| now_ms.saturating_sub(t) >= window_ms)
        {
            self.hits.pop_front();
        }
        if self.hits.len() >= limit as usize {
            let oldest = self.hits.front().copied().unwrap_or(now_ms);
            let wait_ms = window_ms.saturating_sub(now_ms.saturating_sub(oldest));
            return Err(wait_ms.div_ceil(1000).max(1));
        }
        self.hits.push_back(now_ms);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_limit_per_window_then_says_when() {
        let mut w = Window::default();
        for i in 0..10 {
            assert_eq!(w.hit(1000 + i, 10, 60_000), Ok(()));
        }
        assert_eq!(w.hit(2000, 10, 60_000), Err(59));
        assert_eq!(
            w.hit(61_000, 10, 60_000),
            Ok(()),
            "the first hit has left the window"
        );
        assert!(
            w.hit(61_000, 10, 60_000).is_err(),
            "ten hits again inside the window"
        );
        let mut none = Window::default();
        assert_eq!(none.hit(0, 0, 60_000), Err(60));
    }
}
