//! The summary table of `tandem bench`: one row per figure, printed at the end.

/// One row of the summary table.
pub(crate) struct Row {
    pub(crate) what: String,
    pub(crate) value: String,
}

/// The summary rows, with what was said on stderr as they were added.
pub(crate) struct Summary {
    pub(crate) rows: Vec<Row>,
}

impl Summary {
    /// Adds a row.
    pub(crate) fn row(&mut self, what: impl Into<String>, value: impl Into<String>) {
        self.rows.push(Row {
            what: what.into(),
            value: value.into(),
        });
    }
}
