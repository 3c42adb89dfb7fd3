fn main() {
    eprintln!("viopay-check: the harness is being built (issue 3)");
    std::process::exit(2);
}
