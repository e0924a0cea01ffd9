fn main() {
    cordon::cli::main()
}
