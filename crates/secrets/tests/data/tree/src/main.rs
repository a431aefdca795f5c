fn main() {
    let token = std::env::var("API_TOKEN").expect("API_TOKEN");
    println!("{}", token.len());
}
