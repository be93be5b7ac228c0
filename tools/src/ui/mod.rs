//! What the commands share in front of the user: progress bars and target verdicts.
pub mod progress;
pub mod verdict;
