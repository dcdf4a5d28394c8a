//! Tag knowledge: the `TagStore` port, the embedded index, the Supabase adapter, ratings.

pub mod rating;
