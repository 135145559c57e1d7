//! The `depot-server` command (see the library's documentation).

fn main() {
    depot_server::principal();
}
