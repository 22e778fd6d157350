//! The only way the tool runs a command: through the guard. Dangerous lines are
//! refused with no override; caution lines need the confirmation token typed.

use crate::guard::{classify, Class, GuardContext, Verdict};

use super::runner::{self, CancelHandle, ExecError, ExecResult, ExecSpec, Line, Running};

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("refused: {}", .0.line())]
    Refused(Box<Verdict>),
    #[error("confirmation required: type `{token}` to run it ({})", .verdict.line())]
    ConfirmationRequired {
        verdict: Box<Verdict>,
        token: String,
    },
    #[error("confirmation `{given}` does not match `{token}`; not run")]
    ConfirmationMismatch {
        verdict: Box<Verdict>,
        token: String,
        given: String,
    },
    #[error(transparent)]
    Exec(#[from] ExecError),
}

/// What the responder must type to run a caution command: the first process it
/// touches (so the confirmation says what is at stake), else `confirm`.
pub fn confirmation_token(v: &Verdict) -> String {
    v.targets
        .iter()
        .find(|t| !t.starts_with('<') && !t.is_empty())
        .cloned()
        .unwrap_or_else(|| "confirm".into())
}

/// Check `spec.command` against the guard; `Ok(verdict)` when it may run.
pub fn check(
    spec: &ExecSpec,
    ctx: &GuardContext,
    confirmation: Option<&str>,
) -> Result<Verdict, GuardError> {
    let verdict = classify(&spec.command, ctx);
    match verdict.class {
        Class::Safe => Ok(verdict),
        Class::Dangerous => Err(GuardError::Refused(Box::new(verdict))),
        Class::Caution => {
            let token = confirmation_token(&verdict);
            match confirmation {
                None => Err(GuardError::ConfirmationRequired {
                    verdict: Box::new(verdict),
                    token,
                }),
                Some(given) if given.trim() == token => Ok(verdict),
                Some(given) => Err(GuardError::ConfirmationMismatch {
                    verdict: Box::new(verdict),
                    token,
                    given: given.to_string(),
                }),
            }
        }
    }
}

/// Guard, then run to completion on this thread.
pub fn run_guarded(
    spec: &ExecSpec,
    ctx: &GuardContext,
    confirmation: Option<&str>,
    cancel: &CancelHandle,
    sink: &mut dyn FnMut(&Line),
) -> Result<(Verdict, ExecResult), GuardError> {
    let verdict = check(spec, ctx, confirmation)?;
    let result = runner::run(spec, cancel, sink)?;
    Ok((verdict, result))
}

/// Guard, then start on a background thread.
pub fn spawn_guarded<F>(
    spec: ExecSpec,
    ctx: &GuardContext,
    confirmation: Option<&str>,
    cancel: CancelHandle,
    sink: F,
) -> Result<(Verdict, Running), GuardError>
where
    F: FnMut(&Line) + Send + 'static,
{
    let verdict = check(&spec, ctx, confirmation)?;
    let running = runner::spawn(spec, cancel, sink)?;
    Ok((verdict, running))
}
