//! What a model call costs: a price table kept as data (`data/prices.tsv`), overridable per
//! deployment with `LLM_PRICES="model=in:out;..."` (USD per million tokens).

use super::Usage;

#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    /// (model, input USD/Mtok, output USD/Mtok); "*" is the default.
    rows: Vec<(String, f64, f64)>,
}

impl Prices {
    pub fn load(overrides: Option<&str>) -> Prices {
        let mut rows: Vec<(String, f64, f64)> = include_str!("../../data/prices.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                Some((
                    f.first()?.to_string(),
                    f.get(1)?.parse().ok()?,
                    f.get(2)?.parse().ok()?,
                ))
            })
            .collect();
        for entry in overrides.unwrap_or("").split(';') {
            let Some((model, price)) = entry.split_once('=') else {
                continue;
            };
            let Some((i, o)) = price.split_once(':') else {
                continue;
            };
            if let (Ok(i), Ok(o)) = (i.trim().parse(), o.trim().parse()) {
                rows.retain(|r| r.0 != model.trim());
                rows.insert(0, (model.trim().to_string(), i, o));
            }
        }
        Prices { rows }
    }

    /// The cost of one call. A model is matched exactly, then by the longest listed prefix
    /// (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`), then the default.
    pub fn cost_usd(&self, model: &str, usage: Usage) -> f64 {
        let m = model.rsplit('/').next().unwrap_or(model);
        let row = self
            .rows
            .iter()
            .filter(|r| r.0 != "*" && m.starts_with(r.0.as_str()))
            .max_by_key(|r| r.0.len())
            .or_else(|| self.rows.iter().find(|r| r.0 == "*"));
        row.map_or(0.0, |r| {
            (usage.input_tokens as f64 * r.1 + usage.output_tokens as f64 * r.2) / 1e6
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_by_model_prefix_default_and_override() {
        let p = Prices::load(None);
        let u = Usage {
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
        };
        assert!((p.cost_usd("gpt-4o-mini", u) - 0.75).abs() < 1e-9);
        assert!((p.cost_usd("gpt-4o-mini-2024-07-18", u) - 0.75).abs() < 1e-9);
        assert!((p.cost_usd("gpt-4o", u) - 12.5).abs() < 1e-9);
        assert!((p.cost_usd("some-local-model", u) - 5.0).abs() < 1e-9);
        let p = Prices::load(Some("some-local-model=0:0; gpt-4o-mini = 1:1"));
        assert_eq!(p.cost_usd("some-local-model", u), 0.0);
        assert!((p.cost_usd("gpt-4o-mini", u) - 2.0).abs() < 1e-9);
    }
}
