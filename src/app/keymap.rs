//! Keys as data: the footer and the help popup are generated from this table.
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Down,
    Up,
    NextStep,
    PrevStep,
    Activate,
    Override,
    Tick,
    Skip,
    Prompt,
    Note,
    Timeline,
    Help,
    Cancel,
    Quit,
    NextTab,
    Tab(u8),
}

pub struct Binding {
    pub keys: &'static [KeyCode],
    pub ctrl: bool,
    pub action: Action,
    /// Shown in the footer (short) and the help (long).
    pub short: &'static str,
    pub help: &'static str,
    /// Shown in the footer.
    pub footer: bool,
}

pub const KEYMAP: &[Binding] = &[
    Binding { keys: &[KeyCode::Char('j'), KeyCode::Down], ctrl: false, action: Action::Down, short: "j/k move", help: "select the next item (command, plan item, checklist item)", footer: true },
    Binding { keys: &[KeyCode::Char('k'), KeyCode::Up], ctrl: false, action: Action::Up, short: "", help: "select the previous item", footer: false },
    Binding { keys: &[KeyCode::Char('l'), KeyCode::Right, KeyCode::Char(']')], ctrl: false, action: Action::NextStep, short: "l/h step", help: "next runbook step (marks this one done)", footer: true },
    Binding { keys: &[KeyCode::Char('h'), KeyCode::Left, KeyCode::Char('[')], ctrl: false, action: Action::PrevStep, short: "", help: "previous runbook step", footer: false },
    Binding { keys: &[KeyCode::Enter], ctrl: false, action: Action::Activate, short: "Enter run/accept", help: "run the selected command (after the guard), or accept the proposed severity", footer: true },
    Binding { keys: &[KeyCode::Char('o')], ctrl: false, action: Action::Override, short: "o override", help: "override the severity: type the level (P1, P2, P3) and a reason", footer: false },
    Binding { keys: &[KeyCode::Char('x'), KeyCode::Char(' ')], ctrl: false, action: Action::Tick, short: "x tick", help: "tick or untick the selected manual checklist item", footer: false },
    Binding { keys: &[KeyCode::Char('s')], ctrl: false, action: Action::Skip, short: "s skip", help: "skip the restore gate for the selected plan item (type a reason)", footer: false },
    Binding { keys: &[KeyCode::Char(':')], ctrl: false, action: Action::Prompt, short: ": cmd", help: "type an ad-hoc command (same guard, same journal)", footer: true },
    Binding { keys: &[KeyCode::Char('n')], ctrl: false, action: Action::Note, short: "n note", help: "add a note to the incident journal", footer: true },
    Binding { keys: &[KeyCode::Char('t')], ctrl: false, action: Action::Timeline, short: "t timeline", help: "show the incident timeline", footer: true },
    Binding { keys: &[KeyCode::Char('?')], ctrl: false, action: Action::Help, short: "? help", help: "this help", footer: true },
    Binding { keys: &[KeyCode::Char('c')], ctrl: true, action: Action::Cancel, short: "^C cancel", help: "cancel the running command (TERM, then KILL, to its whole process group)", footer: false },
    Binding { keys: &[KeyCode::Tab], ctrl: false, action: Action::NextTab, short: "Tab pane", help: "next pane (narrow terminals show one pane at a time)", footer: false },
    Binding { keys: &[KeyCode::Char('1'), KeyCode::Char('2'), KeyCode::Char('3'), KeyCode::Char('4')], ctrl: false, action: Action::Tab(0), short: "", help: "1-4: show the runbook, step, PM2 or health pane (narrow terminals)", footer: false },
    Binding { keys: &[KeyCode::Char('q')], ctrl: false, action: Action::Quit, short: "q quit", help: "quit (asks first while a command runs; running commands are ended)", footer: true },
];

/// The action bound to a key, if any.
pub fn action_for(key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    for b in KEYMAP {
        if b.ctrl == ctrl && b.keys.contains(&key.code) {
            if let (Action::Tab(_), KeyCode::Char(c)) = (b.action, key.code) {
                return Some(Action::Tab(c as u8 - b'1'));
            }
            return Some(b.action);
        }
    }
    None
}

/// The footer line: the keys marked for it.
pub fn footer() -> String {
    KEYMAP
        .iter()
        .filter(|b| b.footer)
        .map(|b| b.short)
        .collect::<Vec<_>>()
        .join("  ")
}

/// Help lines: keys and what they do.
pub fn help_lines() -> Vec<(String, &'static str)> {
    KEYMAP
        .iter()
        .map(|b| {
            let keys: Vec<String> = b
                .keys
                .iter()
                .map(|k| {
                    let name = match k {
                        KeyCode::Char(' ') => "Space".to_string(),
                        KeyCode::Char(c) => c.to_string(),
                        KeyCode::Down => "↓".into(),
                        KeyCode::Up => "↑".into(),
                        KeyCode::Left => "←".into(),
                        KeyCode::Right => "→".into(),
                        KeyCode::Enter => "Enter".into(),
                        KeyCode::Tab => "Tab".into(),
                        other => format!("{other:?}"),
                    };
                    if b.ctrl {
                        format!("Ctrl-{name}")
                    } else {
                        name
                    }
                })
                .collect();
            (keys.join(" "), b.help)
        })
        .collect()
}
