//! Safety of user input (placeholder; being written).
