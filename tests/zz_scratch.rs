use pm2_incident::guard::{analyze, classify, GuardContext};
#[test]
fn print() {
    let ctx = GuardContext { known_processes: vec!["flyer-crawler-api".into(), "flyer-crawler-worker".into()], scope: None };
    let src = std::fs::read_to_string("/tmp/scratch/lines.txt").unwrap();
    for line in src.split("\n---\n") {
        let v = classify(line, &ctx);
        println!("{:?}\n    => {}", line, v.line());
        for f in analyze(line, &ctx, &Default::default()) {
            if f.class != pm2_incident::guard::Class::Safe {
                let at = line.get(f.offset..).map(|s| s.chars().take(25).collect::<String>());
                println!("       [{}] {} @{} {:?}", f.class, f.command.chars().take(40).collect::<String>(), f.offset, at);
            }
        }
    }
}
