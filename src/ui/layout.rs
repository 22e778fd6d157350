//! Pane widths from the content and the terminal, and text wrapping for narrow panes.
//! Pure: no frame, no app — the panes measure what they want and this shares the width.

/// What each column would like (its content's widest line, borders included) and the least
/// it can work with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    pub runbook: u16,
    pub pm2: u16,
    /// `None` in the three-column layout (health shares the PM2 column).
    pub health: Option<u16>,
}

pub const RUNBOOK_MIN: u16 = 18;
pub const RUNBOOK_MAX: u16 = 56;
pub const PM2_MIN: u16 = 30;
pub const PM2_MAX: u16 = 60;
pub const HEALTH_MIN: u16 = 26;
pub const HEALTH_MAX: u16 = 56;
pub const STEP_MIN: u16 = 34;
/// Below this width the step pane keeps more room (the side panes shorten names instead).
pub const ROOMY_COLS: u16 = 120;
pub const STEP_MIN_NARROW: u16 = 44;
pub const STEP_MIN_ROOMY: u16 = 40;
pub const FULL_COLS: u16 = 140;

/// Column widths `[runbook, step, pm2, health]` (health 0 in three columns) that add up to
/// `total`. Every column gets its minimum; what is left goes to full PM2 names first, then
/// to the runbook's titles, then to health, and the rest to the step pane.
pub fn columns(total: u16, want: Want) -> [u16; 4] {
    // The step pane keeps more room on smaller terminals; from FULL_COLS the side panes'
    // titles and names come first.
    let step_min = if total >= FULL_COLS {
        STEP_MIN
    } else if total >= ROOMY_COLS {
        STEP_MIN_ROOMY
    } else {
        STEP_MIN_NARROW
    };
    let mins = [
        RUNBOOK_MIN,
        step_min,
        PM2_MIN,
        want.health.map_or(0, |_| HEALTH_MIN),
    ];
    let floor: u16 = mins.iter().sum();
    if total <= floor {
        // Too small for the minimums: shrink the step pane first, never below nothing.
        let step = total.saturating_sub(mins[0] + mins[2] + mins[3]);
        let mut w = [mins[0], step, mins[2], mins[3]];
        let sum: u16 = w.iter().sum();
        if sum > total {
            // Even the side panes do not fit: split evenly.
            let n = if want.health.is_some() { 4 } else { 3 };
            let each = total / n;
            w = [
                each,
                total - each * (n - 1),
                each,
                if n == 4 { each } else { 0 },
            ];
        }
        return w;
    }
    let mut spare = total - floor;
    let mut w = mins;
    // The runbook's titles and full PM2 names share what is left in proportion to what each
    // lacks (when both fit, both get all they want); then health; the rest is the step's.
    let rb_lack = want.runbook.clamp(RUNBOOK_MIN, RUNBOOK_MAX) - RUNBOOK_MIN;
    let pm2_lack = want.pm2.clamp(PM2_MIN, PM2_MAX) - PM2_MIN;
    let lack = u32::from(rb_lack) + u32::from(pm2_lack);
    if lack > 0 {
        let share = u32::from(spare).min(lack);
        let rb = u16::try_from(share * u32::from(rb_lack) / lack).unwrap_or(0);
        let pm2 = u16::try_from(share).unwrap_or(0) - rb;
        w[0] += rb;
        w[2] += pm2;
        spare -= rb + pm2;
    }
    if let Some(h) = want.health {
        let extra = h
            .clamp(HEALTH_MIN, HEALTH_MAX)
            .saturating_sub(w[3])
            .min(spare);
        w[3] += extra;
        spare -= extra;
    }
    w[1] += spare;
    w
}

/// Display width of a line (one column per char; the panes draw no wide glyphs in names).
pub fn width_of(s: &str) -> u16 {
    u16::try_from(s.chars().count()).unwrap_or(u16::MAX)
}

/// Wraps one line of prose to `width` columns. Continuation lines get a hanging indent (the
/// line's own indentation plus a list marker such as `- `, `* ` or `3. `), and a word longer
/// than the line (a URL, a path) breaks after a separator (`/ ? & = . - _ :`) when it has one.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    wrap_ranges(line, width, hanging_indent(line))
        .into_iter()
        .map(|(pad, a, b)| " ".repeat(pad) + &chars[a..b].iter().collect::<String>())
        .collect()
}

/// The wrapped lines of `line` as (indent, first char, end char) ranges of its chars, so a
/// styled line can be cut along the same places. `indent` is the hanging indent.
pub fn wrap_ranges(line: &str, width: usize, indent: usize) -> Vec<(usize, usize, usize)> {
    let chars: Vec<char> = line.chars().collect();
    let n = chars.len();
    if width == 0 || n <= width {
        return vec![(0, 0, n)];
    }
    // A hanging indent that leaves no room would loop: drop it for very narrow panes.
    let indent = if indent + 8 > width { 0 } else { indent };
    let mut out = Vec::new();
    let mut start = 0usize; // first char of the current output line
    let mut pad = 0usize;
    let mut i = 0usize;
    while start < n {
        let room = width - pad;
        if n - start <= room {
            out.push((pad, start, n));
            break;
        }
        // The last space within reach ends the line (kept words whole).
        let limit = start + room;
        let space = (start + 1..=limit.min(n - 1))
            .rev()
            .find(|&k| chars[k] == ' ' && k > start && chars[start..k].iter().any(|c| *c != ' '));
        let end = match space {
            Some(k) => k,
            None => {
                // One token longer than the line: cut after a separator, else at the edge.
                let token: String = chars[start..n].iter().collect();
                let cut = break_point(&token, room);
                start + token[..cut].chars().count().max(1)
            }
        };
        out.push((pad, start, end));
        i = end;
        while i < n && chars[i] == ' ' {
            i += 1;
        }
        start = i;
        pad = indent;
    }
    let _ = i;
    out
}

/// Byte index to cut `s` at so the head fits `room` columns: just after the last separator
/// that fits, else (no separator) at `room` chars. 0 when nothing fits on a line this full.
fn break_point(s: &str, room: usize) -> usize {
    let mut last_sep = None;
    let mut at_room = s.len();
    for (n, (i, c)) in s.char_indices().enumerate() {
        if n == room {
            at_room = i;
            break;
        }
        if matches!(c, '/' | '?' | '&' | '=' | '.' | '-' | '_' | ':' | ',') {
            last_sep = Some(i + c.len_utf8());
        }
    }
    match last_sep {
        // Break at a separator unless it wastes most of the line.
        Some(b) if b * 3 >= at_room.min(s.len()) => b,
        _ => at_room,
    }
}

/// Columns a continuation line is indented by: leading spaces plus a list marker.
pub fn hanging_indent(line: &str) -> usize {
    let lead = line.chars().take_while(|c| *c == ' ').count();
    let rest: String = line.chars().skip(lead).collect();
    let marker = if rest.starts_with("- ") || rest.starts_with("* ") || rest.starts_with("• ") {
        2
    } else {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let after: String = rest.chars().skip(digits).take(2).collect();
        if digits > 0 && (after == ". " || after == ") ") {
            digits + 2
        } else {
            0
        }
    };
    lead + marker
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three(runbook: u16, pm2: u16) -> Want {
        Want {
            runbook,
            pm2,
            health: None,
        }
    }

    #[test]
    fn widths_add_up_and_respect_the_order_of_wants() {
        for total in [60u16, 80, 100, 120, 140, 149, 200, 300] {
            let w = columns(total, three(53, 52));
            assert_eq!(w.iter().sum::<u16>(), total, "{total}: {w:?}");
            let w4 = columns(
                total,
                Want {
                    runbook: 53,
                    pm2: 52,
                    health: Some(40),
                },
            );
            assert_eq!(w4.iter().sum::<u16>(), total, "{total}: {w4:?}");
        }
        // 140 columns: every step title (53) and every full name (52) fits.
        assert_eq!(columns(140, three(53, 52)), [53, 35, 52, 0]);
        // 120: titles and names share what the step pane leaves, by what each lacks.
        let w = columns(120, three(53, 52));
        assert_eq!(w[1], STEP_MIN_ROOMY);
        assert!(w[0] > RUNBOOK_MIN && w[2] > PM2_MIN, "{w:?}");
        // 100: the step pane keeps its room; the side panes share the rest.
        let w = columns(100, three(53, 52));
        assert_eq!(w[1], STEP_MIN_NARROW);
        assert_eq!(w.iter().sum::<u16>(), 100);
        // Small wants leave the space to the step pane.
        assert_eq!(columns(140, three(20, 31)), [20, 89, 31, 0]);
        // Too narrow for the minimums: still adds up.
        assert_eq!(columns(50, three(53, 52)).iter().sum::<u16>(), 50);
    }

    #[test]
    fn wrapping_hangs_and_breaks_urls_at_separators() {
        let l = "- check https://flyer-crawler.projectium.com/api/health/ready?verbose=1 and then restart";
        let w = wrap(l, 30);
        assert!(w.iter().all(|x| x.chars().count() <= 30), "{w:?}");
        assert!(w[1..].iter().all(|x| x.starts_with("  ")), "{w:?}");
        // The URL is cut after separators, never inside a word it could keep whole.
        let joined: String = w
            .iter()
            .map(|x| x.trim_start())
            .collect::<Vec<_>>()
            .join("");
        assert!(joined.contains("https://flyer-crawler.projectium.com/api/health/ready?verbose=1"));
        assert!(
            w.iter().any(|x| x.ends_with('/') || x.ends_with('.')),
            "{w:?}"
        );
        assert_eq!(hanging_indent("  12. step"), 6);
        assert_eq!(wrap("short", 10), vec!["short"]);
        // Very narrow panes still make progress.
        let w = wrap("1. aaaaaaaaaaaaaaaaaaaaaaaaa", 5);
        assert!(w.iter().all(|x| x.chars().count() <= 5), "{w:?}");
    }
}
