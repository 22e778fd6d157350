pub mod pm2_fixture;
pub mod sandbox_site;
