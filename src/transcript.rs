//! The transcript: the ordered items of a conversation as the model sees them. Stored one
//! row per item by the session, sent whole (trimmed to a budget) to the model every turn.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    User {
        text: String,
    },
    Assistant {
        text: String,
    },
    /// A tool call the model asked for; `arguments` is the JSON text exactly as sent.
    ToolCall {
        call_id: String,
        name: String,
        arguments: String,
    },
    /// The result of that call, as JSON text.
    ToolOutput {
        call_id: String,
        output: String,
    },
}

impl Item {
    pub fn user(text: impl Into<String>) -> Item {
        Item::User { text: text.into() }
    }
    pub fn assistant(text: impl Into<String>) -> Item {
        Item::Assistant { text: text.into() }
    }
    /// A rough token estimate (4 bytes a token) used for trimming; good enough for budgets.
    pub fn approx_tokens(&self) -> usize {
        let len = match self {
            Item::User { text } | Item::Assistant { text } => text.len(),
            Item::ToolCall {
                name, arguments, ..
            } => name.len() + arguments.len() + 16,
            Item::ToolOutput { output, .. } => output.len() + 16,
        };
        len / 4 + 4
    }
}

/// The items to send: the newest that fit in `budget_tokens`, dropped oldest-first by whole
/// turns (a turn starts at a user item) so no tool output is ever separated from its call.
/// The newest turn is always kept.
pub fn trim_to_budget(items: &[Item], budget_tokens: usize) -> &[Item] {
    let mut total: usize = items.iter().map(Item::approx_tokens).sum();
    let mut start = 0;
    let turn_starts = items
        .iter()
        .enumerate()
        .filter(|(i, it)| *i > 0 && matches!(it, Item::User { .. }));
    for (next, _) in turn_starts {
        if total <= budget_tokens {
            break;
        }
        total -= items[start..next]
            .iter()
            .map(Item::approx_tokens)
            .sum::<usize>();
        start = next;
    }
    &items[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(n: usize, size: usize) -> Vec<Item> {
        vec![
            Item::user(format!("u{n}")),
            Item::ToolCall {
                call_id: format!("c{n}"),
                name: "t".into(),
                arguments: "x".repeat(size),
            },
            Item::ToolOutput {
                call_id: format!("c{n}"),
                output: "y".repeat(size),
            },
            Item::assistant(format!("a{n}")),
        ]
    }

    #[test]
    fn trims_oldest_whole_turns_first() {
        let items: Vec<Item> = (0..5).flat_map(|n| turn(n, 400)).collect();
        assert_eq!(trim_to_budget(&items, 1_000_000).len(), 20);
        let kept = trim_to_budget(&items, 700);
        assert!(matches!(&kept[0], Item::User { text } if text != "u0"));
        assert_eq!(kept.len() % 4, 0, "whole turns only");
        // Every kept output has its call.
        for it in kept {
            if let Item::ToolOutput { call_id, .. } = it {
                assert!(kept
                    .iter()
                    .any(|c| matches!(c, Item::ToolCall { call_id: id, .. } if id == call_id)));
            }
        }
        // The newest turn survives any budget.
        let newest = trim_to_budget(&items, 1);
        assert_eq!(newest.len(), 4);
        assert_eq!(newest[0], Item::user("u4"));
    }

    #[test]
    fn items_round_trip_as_tagged_json() {
        let it = Item::ToolOutput {
            call_id: "c".into(),
            output: "{}".into(),
        };
        let v = serde_json::to_value(&it).unwrap();
        assert_eq!(v["type"], "tool_output");
        assert_eq!(serde_json::from_value::<Item>(v).unwrap(), it);
    }
}
