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
    /// Skip the current runbook step, with a reason (journaled).
    SkipStep,
    Prompt,
    Note,
    Timeline,
    Help,
    Cancel,
    Quit,
    NextTab,
    Tab(u8),
    /// Copy PM2's traces (log, saved list, pid, live node processes) into the incident directory.
    Preserve,
    /// Focus the runbook pane to jump to a phase or step.
    FocusRunbook,
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
    Binding {
        keys: &[KeyCode::Char('j'), KeyCode::Down],
        ctrl: false,
        action: Action::Down,
        short: "j/k move",
        help: "select the next item (command, plan item, checklist item)",
        footer: true,
    },
    Binding {
        keys: &[KeyCode::Char('k'), KeyCode::Up],
        ctrl: false,
        action: Action::Up,
        short: "",
        help: "select the previous item",
        footer: false,
    },
    Binding {
        keys: &[KeyCode::Char('l'), KeyCode::Right, KeyCode::Char(']')],
        ctrl: false,
        action: Action::NextStep,
        short: "l/h step",
        help: "next runbook step (journaled as left: what ran here, or nothing)",
        footer: true,
    },
    Binding {
        keys: &[KeyCode::Char('h'), KeyCode::Left, KeyCode::Char('[')],
        ctrl: false,
        action: Action::PrevStep,
        short: "",
        help: "previous runbook step",
        footer: false,
    },
    Binding {
        keys: &[KeyCode::Enter],
        ctrl: false,
        action: Action::Activate,
        short: "Enter run/accept",
        help: "run the selected command (after the guard), or accept the proposed severity",
        footer: true,
    },
    Binding {
        keys: &[KeyCode::Char('o')],
        ctrl: false,
        action: Action::Override,
        short: "o override",
        help: "override the severity: type the level (P1, P2, P3) and a reason",
        footer: false,
    },
    Binding {
        keys: &[KeyCode::Char('x'), KeyCode::Char(' ')],
        ctrl: false,
        action: Action::Tick,
        short: "x tick",
        help: "tick or untick the selected manual checklist item",
        footer: false,
    },
    Binding {
        keys: &[KeyCode::Char('s')],
        ctrl: false,
        action: Action::Skip,
        short: "s skip",
        help: "skip the restore gate for the selected plan item (type a reason)",
        footer: false,
    },
    Binding {
        keys: &[KeyCode::Char('S')],
        ctrl: false,
        action: Action::SkipStep,
        short: "S skip step",
        help: "skip this runbook step on purpose (type a reason; the report lists it)",
        footer: false,
    },
    Binding {
        keys: &[KeyCode::Char('g')],
        ctrl: false,
        action: Action::FocusRunbook,
        short: "g go to",
        help: "runbook pane (also Tab): j/k, Enter go there, gg/G first/last, Esc back",
        footer: true,
    },
    Binding {
        keys: &[KeyCode::Char(':')],
        ctrl: false,
        action: Action::Prompt,
        short: ": cmd",
        help: "type an ad-hoc command (same guard, same journal)",
        footer: true,
    },
    Binding {
        keys: &[KeyCode::Char('n')],
        ctrl: false,
        action: Action::Note,
        short: "n note",
        help: "write a note for the journal (Enter new line, Ctrl-S save)",
        footer: true,
    },
    Binding {
        keys: &[KeyCode::Char('t')],
        ctrl: false,
        action: Action::Timeline,
        short: "t timeline",
        help: "show the incident timeline",
        footer: true,
    },
    Binding {
        keys: &[KeyCode::Char('?')],
        ctrl: false,
        action: Action::Help,
        short: "? help",
        help: "this help",
        footer: true,
    },
    Binding {
        keys: &[KeyCode::Char('c')],
        ctrl: true,
        action: Action::Cancel,
        short: "^C cancel",
        help: "cancel the running command (TERM, then KILL, to its whole process group)",
        footer: false,
    },
    Binding {
        keys: &[KeyCode::Tab],
        ctrl: false,
        action: Action::NextTab,
        short: "Tab pane",
        help: "next pane (narrow terminals show one pane at a time)",
        footer: false,
    },
    Binding {
        keys: &[
            KeyCode::Char('1'),
            KeyCode::Char('2'),
            KeyCode::Char('3'),
            KeyCode::Char('4'),
        ],
        ctrl: false,
        action: Action::Tab(0),
        short: "",
        help: "1-4: show the runbook, step, PM2 or health pane (narrow terminals)",
        footer: false,
    },
    Binding {
        keys: &[KeyCode::Char('E')],
        ctrl: false,
        action: Action::Preserve,
        short: "E keep evidence",
        help: "preserve PM2's evidence (pm2.log tail, dump.pm2, pid, live node processes) into the incident directory, before anything starts a new daemon",
        footer: false,
    },
    Binding {
        keys: &[KeyCode::Char('q')],
        ctrl: false,
        action: Action::Quit,
        short: "q quit",
        help: "quit (asks first while a command runs; running commands are ended)",
        footer: true,
    },
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
                    if b.ctrl {
                        format!("Ctrl-{}", key_name(k))
                    } else {
                        key_name(k)
                    }
                })
                .collect();
            (keys.join(" "), b.help)
        })
        .collect()
}

/// Replay keys (read-only: nothing runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayAction {
    Move(super::replay::ReplayMove),
    Down,
    Up,
    Play,
    Faster,
    Slower,
    GotoTime,
    Search,
    SearchNext,
    Timeline,
    Strip,
    Help,
    NextTab,
    Tab(u8),
    Quit,
}

pub struct ReplayBinding {
    pub keys: &'static [KeyCode],
    pub action: ReplayAction,
    pub short: &'static str,
    pub help: &'static str,
    pub footer: bool,
}

use super::replay::ReplayMove as M;
use ReplayAction as RA;

pub const REPLAY_KEYMAP: &[ReplayBinding] = &[
    ReplayBinding {
        keys: &[KeyCode::Char('l'), KeyCode::Right],
        action: RA::Move(M::Next),
        short: "l/h event",
        help: "next event",
        footer: true,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('h'), KeyCode::Left],
        action: RA::Move(M::Prev),
        short: "",
        help: "previous event",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char(']')],
        action: RA::Move(M::NextStep),
        short: "[/] step",
        help: "next runbook step entered",
        footer: true,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('[')],
        action: RA::Move(M::PrevStep),
        short: "",
        help: "previous runbook step entered",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('}')],
        action: RA::Move(M::NextPhase),
        short: "",
        help: "next phase",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('{')],
        action: RA::Move(M::PrevPhase),
        short: "",
        help: "previous phase",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('s')],
        action: RA::Move(M::NextDecision),
        short: "s severity",
        help: "next severity proposal or decision",
        footer: true,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('c')],
        action: RA::Move(M::NextCommand),
        short: "c command",
        help: "next command run (or refused)",
        footer: true,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('g')],
        action: RA::Move(M::Start),
        short: "",
        help: "first event",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('G')],
        action: RA::Move(M::End),
        short: "",
        help: "last event",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('j'), KeyCode::Down],
        action: RA::Down,
        short: "",
        help: "select the next item of the step",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('k'), KeyCode::Up],
        action: RA::Up,
        short: "",
        help: "select the previous item of the step",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char(' ')],
        action: RA::Play,
        short: "Space play",
        help: "play / pause",
        footer: true,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('+'), KeyCode::Char('=')],
        action: RA::Faster,
        short: "+/- speed",
        help: "play faster (1x, 5x, 10x, 30x, 60x)",
        footer: true,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('-')],
        action: RA::Slower,
        short: "",
        help: "play slower",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('T')],
        action: RA::GotoTime,
        short: "T time",
        help: "go to a time (HH:MM[:SS] UTC)",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('/')],
        action: RA::Search,
        short: "/ search",
        help: "search the events",
        footer: true,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('n')],
        action: RA::SearchNext,
        short: "",
        help: "next search hit",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('t')],
        action: RA::Timeline,
        short: "t timeline",
        help: "the incident timeline",
        footer: true,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('z')],
        action: RA::Strip,
        short: "",
        help: "hide or show the timeline chart",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('?')],
        action: RA::Help,
        short: "? help",
        help: "this help",
        footer: true,
    },
    ReplayBinding {
        keys: &[KeyCode::Tab],
        action: RA::NextTab,
        short: "",
        help: "next pane (narrow terminals)",
        footer: false,
    },
    ReplayBinding {
        keys: &[
            KeyCode::Char('1'),
            KeyCode::Char('2'),
            KeyCode::Char('3'),
            KeyCode::Char('4'),
        ],
        action: RA::Tab(0),
        short: "",
        help: "1-4: runbook, step, PM2 or health pane (narrow terminals)",
        footer: false,
    },
    ReplayBinding {
        keys: &[KeyCode::Char('q')],
        action: RA::Quit,
        short: "q quit",
        help: "quit",
        footer: true,
    },
];

pub fn replay_action_for(key: &KeyEvent) -> Option<ReplayAction> {
    for b in REPLAY_KEYMAP {
        if b.keys.contains(&key.code) {
            if let (RA::Tab(_), KeyCode::Char(c)) = (b.action, key.code) {
                return Some(RA::Tab(c as u8 - b'1'));
            }
            return Some(b.action);
        }
    }
    None
}

pub fn replay_footer() -> String {
    REPLAY_KEYMAP
        .iter()
        .filter(|b| b.footer)
        .map(|b| b.short)
        .collect::<Vec<_>>()
        .join("  ")
}

pub fn replay_help_lines() -> Vec<(String, &'static str)> {
    REPLAY_KEYMAP
        .iter()
        .map(|b| {
            let keys: Vec<String> = b.keys.iter().map(key_name).collect();
            (keys.join(" "), b.help)
        })
        .collect()
}

fn key_name(k: &KeyCode) -> String {
    match k {
        KeyCode::Char(' ') => "Space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Down => "↓".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Tab => "Tab".into(),
        other => format!("{other:?}"),
    }
}

/// What keys do while the runbook pane has the focus (`g` or `Tab` to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunbookAction {
    Down,
    Up,
    /// Go to the phase or step under the cursor.
    Jump,
    Top,
    Bottom,
    /// Back to the step pane without moving.
    Leave,
}

pub struct RunbookBinding {
    pub keys: &'static [KeyCode],
    pub action: RunbookAction,
    pub help: &'static str,
}

pub const RUNBOOK_KEYMAP: &[RunbookBinding] = &[
    RunbookBinding {
        keys: &[KeyCode::Char('j'), KeyCode::Down],
        action: RunbookAction::Down,
        help: "runbook pane: next phase or step",
    },
    RunbookBinding {
        keys: &[KeyCode::Char('k'), KeyCode::Up],
        action: RunbookAction::Up,
        help: "runbook pane: previous phase or step",
    },
    RunbookBinding {
        keys: &[KeyCode::Enter, KeyCode::Char('l'), KeyCode::Right],
        action: RunbookAction::Jump,
        help: "runbook pane: go to that phase (its first step) or step",
    },
    RunbookBinding {
        keys: &[KeyCode::Char('g'), KeyCode::Home],
        action: RunbookAction::Top,
        help: "runbook pane: first phase (gg)",
    },
    RunbookBinding {
        keys: &[KeyCode::Char('G'), KeyCode::End],
        action: RunbookAction::Bottom,
        help: "runbook pane: last phase (G)",
    },
    RunbookBinding {
        keys: &[KeyCode::Esc, KeyCode::Char('h'), KeyCode::Left],
        action: RunbookAction::Leave,
        help: "runbook pane: back to the step",
    },
];

pub fn runbook_action_for(key: &KeyEvent) -> Option<RunbookAction> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return None;
    }
    RUNBOOK_KEYMAP
        .iter()
        .find(|b| b.keys.contains(&key.code))
        .map(|b| b.action)
}
