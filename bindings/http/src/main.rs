//! seatcore-server: placeholder until the HTTP door lands.
fn main() {
    eprintln!("seatcore-server: not built yet");
    std::process::exit(1);
}
