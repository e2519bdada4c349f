//! Files and paths without blocking the event loop:
//!
//! 1. a project tree made in a temporary directory (removed at the end);
//! 2. a log file written, then read back line by line as a stream;
//! 3. the tree searched with `glob` and `rglob`, and walked;
//! 4. files counted in parallel tasks, each reading its own file;
//! 5. a file moved, copied, and a bad mode string reported.
//!
//! Run it with `cargo run --example files`.

use futures_lite::StreamExt;

#[anyio::main]
async fn main() -> anyio::Result<()> {
    // 1. A small tree in a temporary directory (gone when `dir` is dropped).
    let dir = anyio::TemporaryDirectory::new()
        .prefix("files-example-")
        .await?;
    let root = dir.path().clone();
    (&root / "src" / "net").mkdir().parents(true).await?;
    (&root / "src" / "lib.rs")
        .write_text("pub mod net;\n")
        .await?;
    (&root / "src" / "net" / "tcp.rs")
        .write_text("// TCP\n// more\n")
        .await?;
    (&root / "README.md").write_text("# Example\n").await?;
    println!("1. made a tree in {root}");

    // 2. A log written with an AsyncFile, read back as a stream of lines.
    let log = &root / "app.log";
    let mut file = anyio::open_file(&log, "w").await?;
    for level in ["INFO start", "WARN slow disk", "INFO done"] {
        file.write_all(format!("{level}\n").as_bytes()).await?;
    }
    file.aclose_file().await?;
    let mut file = log.open("r").await?;
    let mut lines = file.lines();
    while let Some(line) = lines.next().await {
        let line = line?;
        if line.starts_with("WARN") {
            println!("2. found a warning: {:?}", line.trim_end());
        }
    }

    // 3. Searching and walking.
    let sources: Vec<String> = root
        .rglob("*.rs")
        .map(|p| p.map(|p| p.relative_to(&root).unwrap().to_string()))
        .try_collect()
        .await?;
    println!("3. Rust sources: {sources:?}");
    let top_level: Vec<String> = root
        .glob("*.md")
        .map(|p| p.map(|p| p.name().into_owned()))
        .try_collect()
        .await?;
    println!("3. top-level docs: {top_level:?}");
    let mut walk = root.walk();
    while let Some(entry) = walk.next().await {
        let (path, dirs, files) = entry?;
        println!(
            "3. walk {}: dirs {dirs:?}, files {files:?}",
            path.relative_to(&root)?
        );
    }

    // 4. Every source file's lines, counted by parallel tasks.
    let counts = anyio::gather(sources.iter().map(|source| {
        let path = &root / source;
        async move {
            let text = path.read_text().await?;
            anyio::Result::Ok((path.name().into_owned(), text.lines().count()))
        }
    }))
    .await?;
    println!("4. line counts: {counts:?}");

    // 5. Moving, copying, and a mistake reported clearly.
    let moved = log.move_(&root / "old.log").await?;
    let copy = moved.copy(&root / "copy.log").await?;
    println!("5. moved to {}, copied to {}", moved.name(), copy.name());
    let error = anyio::open_file(&copy, "rw").await.unwrap_err();
    println!("5. {error}");

    dir.aclose().await?;
    println!("removed {root}: {}", !root.exists().await);
    Ok(())
}
