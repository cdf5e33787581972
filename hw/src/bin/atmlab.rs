fn main() {
    println!("atmlab: nothing yet");
}
