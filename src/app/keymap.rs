//! Keys as data, one schema for every layer (main screen, replay, runbook pane, each popup and
//! editor): the handlers look actions up here, and the footer, the popup titles and the help
//! are generated from the same tables, so what the screen says is what the keys do.
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// One key binding: the keys, whether Ctrl is held, the action, a footer/title hint (empty:
/// not shown there) and the help text.
pub struct Binding<A: 'static> {
    pub keys: &'static [KeyCode],
    pub ctrl: bool,
    pub action: A,
    pub short: &'static str,
    pub help: &'static str,
}

const fn bind<A>(
    keys: &'static [KeyCode],
    action: A,
    short: &'static str,
    help: &'static str,
) -> Binding<A> {
    Binding {
        keys,
        ctrl: false,
        action,
        short,
        help,
    }
}

const fn ctrl<A>(
    keys: &'static [KeyCode],
    action: A,
    short: &'static str,
    help: &'static str,
) -> Binding<A> {
    Binding {
        keys,
        ctrl: true,
        action,
        short,
        help,
    }
}

/// The bindings of one layer, and what a key bound to nothing does there.
pub struct Keymap<A: 'static> {
    pub layer: &'static str,
    pub bindings: &'static [Binding<A>],
    pub otherwise: Option<&'static str>,
}

/// An action that takes the pressed key into account (the digit of `1`-`4`).
pub trait KeyAction: Copy {
    fn for_key(self, _code: KeyCode) -> Self {
        self
    }
}

impl<A: KeyAction> Keymap<A> {
    /// The action bound to a key in this layer, if any.
    pub fn action_for(&self, key: &KeyEvent) -> Option<A> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        self.bindings
            .iter()
            .find(|b| b.ctrl == ctrl && b.keys.contains(&key.code))
            .map(|b| b.action.for_key(key.code))
    }
}

impl<A> Keymap<A> {
    /// The hints of this layer (the footer, or a popup's title), joined by `sep`, followed by
    /// what other keys do.
    pub fn hints(&self, sep: &str) -> String {
        let mut parts: Vec<&str> = self
            .bindings
            .iter()
            .map(|b| b.short)
            .filter(|s| !s.is_empty())
            .collect();
        parts.extend(self.otherwise);
        parts.join(sep)
    }

    /// Help lines: keys and what they do, then what other keys do.
    pub fn help_lines(&self) -> Vec<(String, &'static str)> {
        let mut lines: Vec<(String, &'static str)> = self
            .bindings
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
            .collect();
        if let Some(o) = self.otherwise {
            lines.push(("(other)".into(), o));
        }
        lines
    }
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
        KeyCode::Esc => "Esc".into(),
        KeyCode::Backspace => "Backspace".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        other => format!("{other:?}"),
    }
}

fn digit_tab(code: KeyCode) -> u8 {
    match code {
        KeyCode::Char(c @ '1'..='4') => c as u8 - b'1',
        _ => 0,
    }
}

/// The main screen (live and drill).
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

impl KeyAction for Action {
    fn for_key(self, code: KeyCode) -> Self {
        match self {
            Action::Tab(_) => Action::Tab(digit_tab(code)),
            a => a,
        }
    }
}

pub const MAIN: Keymap<Action> = Keymap {
    layer: "main screen",
    otherwise: None,
    bindings: &[
        bind(
            &[KeyCode::Char('j'), KeyCode::Down],
            Action::Down,
            "j/k move",
            "select the next item (command, plan item, checklist item)",
        ),
        bind(
            &[KeyCode::Char('k'), KeyCode::Up],
            Action::Up,
            "",
            "select the previous item",
        ),
        bind(
            &[KeyCode::Char('l'), KeyCode::Right, KeyCode::Char(']')],
            Action::NextStep,
            "l/h step",
            "next runbook step (journaled as left: what ran here, or nothing)",
        ),
        bind(
            &[KeyCode::Char('h'), KeyCode::Left, KeyCode::Char('[')],
            Action::PrevStep,
            "",
            "previous runbook step",
        ),
        bind(
            &[KeyCode::Enter],
            Action::Activate,
            "Enter run/accept",
            "run the selected command (after the guard), or accept the proposed severity",
        ),
        bind(
            &[KeyCode::Char('o')],
            Action::Override,
            "",
            "override the severity: type the level (P1, P2, P3) and a reason",
        ),
        bind(
            &[KeyCode::Char('x'), KeyCode::Char(' ')],
            Action::Tick,
            "",
            "tick or untick the selected manual checklist item",
        ),
        bind(
            &[KeyCode::Char('s')],
            Action::Skip,
            "",
            "skip the restore gate for the selected plan item (type a reason)",
        ),
        bind(
            &[KeyCode::Char('S')],
            Action::SkipStep,
            "",
            "skip this runbook step on purpose (type a reason; the report lists it)",
        ),
        bind(
            &[KeyCode::Char('g')],
            Action::FocusRunbook,
            "g go to",
            "runbook pane (also Tab): j/k, Enter go there, gg/G first/last, Esc back",
        ),
        bind(
            &[KeyCode::Char(':')],
            Action::Prompt,
            ": cmd",
            "type an ad-hoc command (same guard, same journal)",
        ),
        bind(
            &[KeyCode::Char('n')],
            Action::Note,
            "n note",
            "write a note for the journal (Enter new line, Ctrl-S save)",
        ),
        bind(
            &[KeyCode::Char('t')],
            Action::Timeline,
            "t timeline",
            "show the incident timeline",
        ),
        bind(
            &[KeyCode::Char('?')],
            Action::Help,
            "? help",
            "this help",
        ),
        ctrl(
            &[KeyCode::Char('c')],
            Action::Cancel,
            "",
            "cancel the running command (TERM, then KILL, to its whole process group)",
        ),
        bind(
            &[KeyCode::Tab],
            Action::NextTab,
            "",
            "next pane (narrow terminals show one pane at a time)",
        ),
        bind(
            &[KeyCode::Char('1'), KeyCode::Char('2'), KeyCode::Char('3'), KeyCode::Char('4')],
            Action::Tab(0),
            "",
            "1-4: show the runbook, step, PM2 or health pane (narrow terminals)",
        ),
        bind(
            &[KeyCode::Char('E')],
            Action::Preserve,
            "",
            "preserve PM2's evidence (pm2.log tail, dump.pm2, pid, live node processes) into the incident directory, before anything starts a new daemon",
        ),
        bind(
            &[KeyCode::Char('q')],
            Action::Quit,
            "q quit",
            "quit (asks first while a command runs; running commands are ended)",
        ),
    ],
};

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

impl KeyAction for ReplayAction {
    fn for_key(self, code: KeyCode) -> Self {
        match self {
            ReplayAction::Tab(_) => ReplayAction::Tab(digit_tab(code)),
            a => a,
        }
    }
}

use super::replay::ReplayMove as M;
use ReplayAction as RA;

pub const REPLAY: Keymap<ReplayAction> = Keymap {
    layer: "replay",
    otherwise: None,
    bindings: &[
        bind(
            &[KeyCode::Char('l'), KeyCode::Right],
            RA::Move(M::Next),
            "l/h event",
            "next event",
        ),
        bind(
            &[KeyCode::Char('h'), KeyCode::Left],
            RA::Move(M::Prev),
            "",
            "previous event",
        ),
        bind(
            &[KeyCode::Char(']')],
            RA::Move(M::NextStep),
            "[/] step",
            "next runbook step entered",
        ),
        bind(
            &[KeyCode::Char('[')],
            RA::Move(M::PrevStep),
            "",
            "previous runbook step entered",
        ),
        bind(
            &[KeyCode::Char('}')],
            RA::Move(M::NextPhase),
            "",
            "next phase",
        ),
        bind(
            &[KeyCode::Char('{')],
            RA::Move(M::PrevPhase),
            "",
            "previous phase",
        ),
        bind(
            &[KeyCode::Char('s')],
            RA::Move(M::NextDecision),
            "s severity",
            "next severity proposal or decision",
        ),
        bind(
            &[KeyCode::Char('c')],
            RA::Move(M::NextCommand),
            "c command",
            "next command run (or refused)",
        ),
        bind(&[KeyCode::Char('g')], RA::Move(M::Start), "", "first event"),
        bind(&[KeyCode::Char('G')], RA::Move(M::End), "", "last event"),
        bind(
            &[KeyCode::Char('j'), KeyCode::Down],
            RA::Down,
            "",
            "select the next item of the step",
        ),
        bind(
            &[KeyCode::Char('k'), KeyCode::Up],
            RA::Up,
            "",
            "select the previous item of the step",
        ),
        bind(
            &[KeyCode::Char(' ')],
            RA::Play,
            "Space play",
            "play / pause",
        ),
        bind(
            &[KeyCode::Char('+'), KeyCode::Char('=')],
            RA::Faster,
            "+/- speed",
            "play faster (1x, 5x, 10x, 30x, 60x)",
        ),
        bind(&[KeyCode::Char('-')], RA::Slower, "", "play slower"),
        bind(
            &[KeyCode::Char('T')],
            RA::GotoTime,
            "",
            "go to a time (HH:MM[:SS] UTC)",
        ),
        bind(
            &[KeyCode::Char('/')],
            RA::Search,
            "/ search",
            "search the events",
        ),
        bind(&[KeyCode::Char('n')], RA::SearchNext, "", "next search hit"),
        bind(
            &[KeyCode::Char('t')],
            RA::Timeline,
            "t timeline",
            "the incident timeline",
        ),
        bind(
            &[KeyCode::Char('z')],
            RA::Strip,
            "",
            "hide or show the timeline chart",
        ),
        bind(&[KeyCode::Char('?')], RA::Help, "? help", "this help"),
        bind(
            &[KeyCode::Tab],
            RA::NextTab,
            "",
            "next pane (narrow terminals)",
        ),
        bind(
            &[
                KeyCode::Char('1'),
                KeyCode::Char('2'),
                KeyCode::Char('3'),
                KeyCode::Char('4'),
            ],
            RA::Tab(0),
            "",
            "1-4: runbook, step, PM2 or health pane (narrow terminals)",
        ),
        bind(&[KeyCode::Char('q')], RA::Quit, "q quit", "quit"),
    ],
};

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

impl KeyAction for RunbookAction {}

pub const RUNBOOK: Keymap<RunbookAction> = Keymap {
    layer: "runbook pane",
    otherwise: Some("other keys: as on the main screen"),
    bindings: &[
        bind(
            &[KeyCode::Char('j'), KeyCode::Down],
            RunbookAction::Down,
            "",
            "next phase or step",
        ),
        bind(
            &[KeyCode::Char('k'), KeyCode::Up],
            RunbookAction::Up,
            "",
            "previous phase or step",
        ),
        bind(
            &[KeyCode::Enter, KeyCode::Char('l'), KeyCode::Right],
            RunbookAction::Jump,
            "",
            "go to that phase (its first step) or step",
        ),
        bind(
            &[KeyCode::Char('g'), KeyCode::Home],
            RunbookAction::Top,
            "",
            "first phase (gg)",
        ),
        bind(
            &[KeyCode::Char('G'), KeyCode::End],
            RunbookAction::Bottom,
            "",
            "last phase (G)",
        ),
        bind(
            &[KeyCode::Esc, KeyCode::Char('h'), KeyCode::Left],
            RunbookAction::Leave,
            "",
            "back to the step",
        ),
    ],
};

/// The note editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteAction {
    Save,
    Discard,
}
impl KeyAction for NoteAction {}

pub const NOTE: Keymap<NoteAction> = Keymap {
    layer: "note editor",
    otherwise: Some("Enter new line"),
    bindings: &[
        ctrl(
            &[KeyCode::Char('s')],
            NoteAction::Save,
            "Ctrl-S save",
            "record the note in the journal",
        ),
        bind(
            &[KeyCode::Esc],
            NoteAction::Discard,
            "Esc discard",
            "discard the note",
        ),
    ],
};

/// The message editor (communication templates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposeAction {
    Save,
    Copy,
    File,
    Webhook,
    Sent,
    Close,
}
impl KeyAction for ComposeAction {}

pub const COMPOSE: Keymap<ComposeAction> = Keymap {
    layer: "message editor",
    otherwise: None,
    bindings: &[
        ctrl(
            &[KeyCode::Char('s')],
            ComposeAction::Save,
            "Ctrl-S save",
            "save the draft to the journal",
        ),
        ctrl(
            &[KeyCode::Char('y')],
            ComposeAction::Copy,
            "Ctrl-Y copy",
            "copy the message to your clipboard (OSC 52)",
        ),
        ctrl(
            &[KeyCode::Char('o')],
            ComposeAction::File,
            "Ctrl-O file",
            "write the message to a file beside the journal",
        ),
        ctrl(
            &[KeyCode::Char('g')],
            ComposeAction::Webhook,
            "Ctrl-G webhook",
            "post the message to the configured webhook",
        ),
        ctrl(
            &[KeyCode::Char('t')],
            ComposeAction::Sent,
            "Ctrl-T sent",
            "record it as sent (the header counts down to the next update)",
        ),
        bind(
            &[KeyCode::Esc],
            ComposeAction::Close,
            "Esc close",
            "close the editor (saved drafts stay in the journal)",
        ),
    ],
};

/// The caution confirmation: the responder types the target, then Enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmAction {
    Run,
    Cancel,
    Evidence,
    Erase,
}
impl KeyAction for ConfirmAction {}

pub const CONFIRM: Keymap<ConfirmAction> = Keymap {
    layer: "caution confirmation",
    otherwise: Some("typed into the confirmation"),
    bindings: &[
        bind(
            &[KeyCode::Enter],
            ConfirmAction::Run,
            "Enter run",
            "run the command once the target is typed exactly",
        ),
        bind(
            &[KeyCode::Esc],
            ConfirmAction::Cancel,
            "Esc cancel",
            "do not run it",
        ),
        ctrl(
            &[KeyCode::Char('c')],
            ConfirmAction::Cancel,
            "",
            "do not run it",
        ),
        ctrl(
            &[KeyCode::Char('e')],
            ConfirmAction::Evidence,
            "Ctrl-E keep evidence",
            "keep PM2's evidence first (the confirmation stays open)",
        ),
        bind(
            &[KeyCode::Backspace],
            ConfirmAction::Erase,
            "",
            "erase the last typed character",
        ),
    ],
};

/// A one-line input (ad-hoc command, override, reasons, review records, replay search).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputAction {
    Submit,
    Cancel,
    Erase,
}
impl KeyAction for InputAction {}

pub const INPUT: Keymap<InputAction> = Keymap {
    layer: "input line",
    otherwise: None,
    bindings: &[
        bind(
            &[KeyCode::Enter],
            InputAction::Submit,
            "Enter submits",
            "submit",
        ),
        bind(
            &[KeyCode::Esc],
            InputAction::Cancel,
            "Esc cancels",
            "cancel",
        ),
        ctrl(&[KeyCode::Char('c')], InputAction::Cancel, "", "cancel"),
        bind(
            &[KeyCode::Backspace],
            InputAction::Erase,
            "",
            "erase the last character",
        ),
    ],
};

/// The quit question while commands run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuitAction {
    Quit,
}
impl KeyAction for QuitAction {}

pub const QUIT: Keymap<QuitAction> = Keymap {
    layer: "quit question",
    otherwise: Some("any other key: stay"),
    bindings: &[bind(
        &[KeyCode::Char('q'), KeyCode::Char('y')],
        QuitAction::Quit,
        "q or y: quit and end them",
        "quit and end the running commands",
    )],
};

/// The popups that scroll (help, timeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScrollAction {
    Down,
    Up,
}
impl KeyAction for ScrollAction {}

pub const SCROLL: Keymap<ScrollAction> = Keymap {
    layer: "help and timeline",
    otherwise: Some("any other key closes"),
    bindings: &[
        bind(
            &[KeyCode::Char('j'), KeyCode::Down],
            ScrollAction::Down,
            "j/k scroll",
            "scroll down",
        ),
        bind(
            &[KeyCode::Char('k'), KeyCode::Up],
            ScrollAction::Up,
            "",
            "scroll up",
        ),
    ],
};

/// The drill debrief.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebriefAction {
    Down,
    Up,
    Quit,
}
impl KeyAction for DebriefAction {}

pub const DEBRIEF: Keymap<DebriefAction> = Keymap {
    layer: "drill debrief",
    otherwise: Some("any other key goes back to the drill"),
    bindings: &[
        bind(
            &[KeyCode::Char('j'), KeyCode::Down],
            DebriefAction::Down,
            "j/k scroll",
            "scroll down",
        ),
        bind(
            &[KeyCode::Char('k'), KeyCode::Up],
            DebriefAction::Up,
            "",
            "scroll up",
        ),
        bind(
            &[KeyCode::Char('q')],
            DebriefAction::Quit,
            "q quits",
            "end the drill",
        ),
    ],
};

/// Every layer's help, in the order the help popup shows them: the screen's own keys first.
pub fn help_sections(replay: bool) -> Vec<(&'static str, Vec<(String, &'static str)>)> {
    let mut s = if replay {
        vec![(REPLAY.layer, REPLAY.help_lines())]
    } else {
        vec![
            (MAIN.layer, MAIN.help_lines()),
            (RUNBOOK.layer, RUNBOOK.help_lines()),
            (CONFIRM.layer, CONFIRM.help_lines()),
            (NOTE.layer, NOTE.help_lines()),
            (COMPOSE.layer, COMPOSE.help_lines()),
        ]
    };
    s.push((INPUT.layer, INPUT.help_lines()));
    s.push((SCROLL.layer, SCROLL.help_lines()));
    s
}

/// How many rows the help has (section headings and the blank lines between them included).
pub fn help_row_count(replay: bool) -> usize {
    let sections = help_sections(replay);
    sections.iter().map(|(_, l)| l.len() + 2).sum::<usize>() - 1
}
