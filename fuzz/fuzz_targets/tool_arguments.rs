//! The model's tool arguments: strict parsing for every tool's `Args`, and, for arguments
//! that parse, the tools themselves (`understand_intent` needs nothing; the others run on
//! the embedded tag index, which answers synchronously). A tool may refuse with a
//! `ToolError` the model reads; it must never panic.
#![no_main]

use futures_util::FutureExt;
use inspire::tags::index::EmbeddedStore;
use inspire::tags::Rating;
use inspire::tools::{self, finalize, ideas, intent, parse_args, search, validate, ToolContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(a) = parse_args::<intent::Args>(tools::UNDERSTAND_INTENT, text) {
        if let Ok(v) = intent::run(a) {
            let c = v["confidence"].as_f64().expect("confidence is a number");
            assert!((0.0..=1.0).contains(&c), "confidence {c}");
        }
    }
    let parsed = [
        (
            tools::SEARCH_EXAMPLES,
            parse_args::<search::Args>(tools::SEARCH_EXAMPLES, text).is_ok(),
        ),
        (
            tools::GENERATE_IDEAS,
            parse_args::<ideas::Args>(tools::GENERATE_IDEAS, text).is_ok(),
        ),
        (
            tools::VALIDATE_QUALITY,
            parse_args::<validate::Args>(tools::VALIDATE_QUALITY, text).is_ok(),
        ),
        (
            tools::FINALIZE_PROMPT,
            parse_args::<finalize::Args>(tools::FINALIZE_PROMPT, text).is_ok(),
        ),
    ];
    // Keep the store-backed tools to inputs that parse, and bounded, so runs stay fast.
    if text.len() > 4096 {
        return;
    }
    let access = [Rating::AllAges, Rating::R15, Rating::R18][data.len() % 3];
    let ctx = ToolContext {
        store: &EmbeddedStore,
        access,
        english: data.len() % 2 == 0,
    };
    for (name, ok) in parsed {
        if !ok {
            continue;
        }
        let out = tools::run(&ctx, name, text)
            .now_or_never()
            .expect("the embedded store answers at once");
        match &out {
            Ok(v) => assert!(v.is_object(), "{name}: {v}"),
            Err(e) => assert!(!e.0.is_empty()),
        }
        let _ = tools::summarize(name, &out, ctx.english);
    }
});
