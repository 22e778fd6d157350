//! Bounds how many output lines of one command reach the journal; the excess is counted so the
//! `command_finished` event can say how much was left out.
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct OutputBudget {
    limit: usize,
    used: HashMap<u64, (usize, u64)>,
}

impl OutputBudget {
    pub fn new(limit_per_command: usize) -> Self {
        OutputBudget {
            limit: limit_per_command,
            used: HashMap::new(),
        }
    }

    /// Returns the lines that may be journaled; the rest are counted as dropped.
    pub fn admit(&mut self, cmd_id: u64, mut lines: Vec<String>) -> Vec<String> {
        let (kept, dropped) = self.used.entry(cmd_id).or_insert((0, 0));
        let room = self.limit.saturating_sub(*kept);
        if lines.len() > room {
            *dropped += (lines.len() - room) as u64;
            lines.truncate(room);
        }
        *kept += lines.len();
        lines
    }

    /// Lines dropped so far for this command (goes into `CommandFinished::output_lines_dropped`).
    pub fn dropped(&self, cmd_id: u64) -> u64 {
        self.used.get(&cmd_id).map_or(0, |u| u.1)
    }
}

impl Default for OutputBudget {
    fn default() -> Self {
        OutputBudget::new(super::fold::OUTPUT_LINE_LIMIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_per_command_and_counts_overflow() {
        let mut b = OutputBudget::new(3);
        let l = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
        assert_eq!(b.admit(1, l(2)).len(), 2);
        assert_eq!(b.admit(1, l(2)).len(), 1);
        assert_eq!(b.admit(1, l(5)).len(), 0);
        assert_eq!(b.dropped(1), 6);
        assert_eq!(
            b.admit(2, l(3)).len(),
            3,
            "other commands have their own budget"
        );
        assert_eq!(b.dropped(2), 0);
    }
}
