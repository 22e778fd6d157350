fn main() {
    std::process::exit(pm2_incident::cmd::main());
}
