pub mod app_fixture;
pub mod drill_sandbox;
pub mod pm2_fixture;
pub mod sandbox_site;
pub mod sshd;
pub mod tmux;
