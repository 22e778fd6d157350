//! Text mechanics of filling a template, independent of what the values mean: one-pass
//! placeholder replacement, list lines, the per-site block, renumbering.

/// Replaces every occurrence of each placeholder in one left-to-right pass (the longest
/// placeholder wins at a position), so a filled-in value is never scanned again: a note
/// that happens to contain `[Name]` stays as written.
pub fn replace_once(line: &str, pairs: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = pairs.iter().filter(|(p, _)| !p.is_empty()).collect();
    sorted.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    'scan: while i < line.len() {
        for (p, v) in &sorted {
            if line[i..].starts_with(p) {
                out.push_str(v);
                i += p.len();
                continue 'scan;
            }
        }
        // Advance one whole char (placeholders and lines may hold any UTF-8).
        let ch = line[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

/// `- host.example.com: rest` -> (`host.example.com`, `rest`): a line of the per-site block.
pub fn site_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("- ")?;
    let (host, tail) = rest.split_once(": ")?;
    let hostlike = host.contains('.')
        && !host.starts_with('[')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    hostlike.then_some((host, tail))
}

/// `- [other affected apps]`: a whole-line placeholder closing the per-site block.
pub fn bracket_line(line: &str) -> bool {
    line.strip_prefix("- ")
        .is_some_and(|r| r.starts_with('[') && r.ends_with(']'))
}

/// The per-site block: (first line, end exclusive, number of site lines). The first run of
/// site lines, with any bracket lines right after it.
pub fn site_block(lines: &[String]) -> Option<(usize, usize, usize)> {
    let start = lines.iter().position(|l| site_line(l).is_some())?;
    let sites = lines[start..]
        .iter()
        .take_while(|l| site_line(l).is_some())
        .count();
    let trailer = lines[start + sites..]
        .iter()
        .take_while(|l| bracket_line(l))
        .count();
    Some((start, start + sites + trailer, sites))
}

/// `3. ` -> the length of the numbering prefix.
fn number_prefix(line: &str) -> Option<usize> {
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    (digits > 0 && line[digits..].starts_with(". ")).then_some(digits)
}

/// Renumbers each run of `N. ` lines 1, 2, 3... (lists grow when filled).
pub fn renumber(lines: &mut [String]) {
    let mut n = 0;
    for line in lines.iter_mut() {
        match number_prefix(line) {
            Some(d) => {
                n += 1;
                *line = format!("{n}{}", &line[d..]);
            }
            None => n = 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_replacement() {
        let pairs = [
            ("[Name]", "Ann [Name]"),
            ("X", "Y"),
            ("X minutes", "5 minutes"),
        ];
        assert_eq!(
            replace_once("By [Name], X minutes, X", &pairs),
            "By Ann [Name], 5 minutes, Y"
        );
        assert_eq!(replace_once("ünï [Name]", &pairs), "ünï Ann [Name]");
        assert_eq!(replace_once("", &pairs), "");
    }

    #[test]
    fn site_lines_and_block() {
        assert_eq!(
            site_line("- flyer-crawler.projectium.com: DOWN"),
            Some(("flyer-crawler.projectium.com", "DOWN"))
        );
        assert_eq!(site_line("- Estimated user impact: [description]"), None);
        assert_eq!(site_line("- [Action taken]"), None);
        let lines: Vec<String> = [
            "Impact:",
            "- a.com: DOWN",
            "- b.com: DOWN",
            "- [other]",
            "Next:",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(site_block(&lines), Some((1, 4, 2)));
    }

    #[test]
    fn renumbers_runs() {
        let mut l: Vec<String> = ["1. a", "1. b", "2. c", "x", "7. d", "10. e"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        renumber(&mut l);
        assert_eq!(l, ["1. a", "2. b", "3. c", "x", "1. d", "2. e"]);
    }
}
