pub mod netns;
pub mod wire;
