// swift-tools-version: 6.0
import PackageDescription

/// The hot loops (kernels, the network, t-SNE) are compiled for the CPU that builds them: with
/// AVX-512 an 8- or 16-float SIMD vector is one register instead of two or four SSE2 ones
/// (baseline x86-64), and training ran 1.07x to 1.15x as fast (csn bench, alternating runs). Sums keep their
/// order (Swift contracts no floating-point operations), so training's results do not change with
/// the CPU's vector width; t-SNE's do on maps of 2,500 to 12,000 points, which an AVX-512 build
/// sums exactly (with fused multiply-adds) and others by Barnes-Hut (TSNEConfig.exactBelowPoints).
/// `CSN_PORTABLE=1 swift build` makes a binary for any x86-64 machine.
#if arch(x86_64)
let hotLoops: [SwiftSetting] = Context.environment["CSN_PORTABLE"] == "1" ? [] : [.unsafeFlags(["-Xcc", "-march=native"])]
#else
let hotLoops: [SwiftSetting] = []
#endif

let package = Package(
    name: "csn",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "csn", targets: ["csn"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // C libraries from Debian, bound as system-library targets.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CFreeType", path: "Sources/CFreeType", pkgConfig: "freetype2",
                       providers: [.apt(["libfreetype-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CCurses", path: "Sources/CCurses", providers: [.apt(["libncursesw5-dev"])]),

        // Errors, seeded randomness, gzip, safetensors, atomic files.
        .target(name: "Basics", dependencies: ["CZlib"]),
        // Kernels on flat Float buffers (OpenBLAS), the parameter store and Adam.
        .target(name: "Tensor", dependencies: ["CBLAS"], swiftSettings: hotLoops),
        // Images with attributes, conditions, splits and triplets; the fonts renderer; importers
        // for image folders, UT-Zappos50K and the original triplet lists.
        .target(name: "Datasets", dependencies: ["Basics", "CFreeType", "CJPEG", "CPNG"]),

        // The four models of the paper, the loss, training, evaluation and checkpoints.
        .target(name: "CSN", dependencies: ["Basics", "Tensor", "Datasets"], swiftSettings: hotLoops),

        // t-SNE, nearest neighbours, mask statistics: what the UI and the analysis commands show.
        .target(name: "Analysis", dependencies: ["Basics", "Tensor"], swiftSettings: hotLoops),

        // TensorBoard event files: record framing with CRC-32C, scalar summaries decoded by
        // swift-protobuf from code generated once out of Protos/ (`make protos`).
        .target(name: "TensorBoard", dependencies: ["Basics", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // What any trainer leaves behind, read as it grows: metrics.jsonl and event files of a
        // folder of runs, embeddings files and Projector folders with their labels.
        .target(name: "Runs", dependencies: ["Basics", "CSN", "Datasets", "TensorBoard"]),

        // The terminal UI's parts: rectangles and layout, the cell buffer, widgets, the cell diff
        // and the in-memory screen. Pure: no ncurses here.
        .target(name: "TUI"),
        // The one piece that talks to the terminal: ncurses, fed the cell diff of each frame.
        .target(name: "TerminalScreen", dependencies: ["TUI", "CCurses"]),

        // The app: views of training and of the learned subspaces, key handling, the analysis worker.
        .target(name: "CSNApp", dependencies: ["TUI", "CSN", "Analysis", "Datasets", "Basics", "Runs"]),

        // The command-line tool: parses arguments, calls the libraries, prints.
        .executableTarget(name: "csn", dependencies: [
            "Basics", "Datasets", "Tensor", "CSN", "Analysis", "TUI", "TerminalScreen", "CSNApp", "Runs",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "TestSupport", dependencies: ["Basics", "Datasets", "Tensor", "CSN"], path: "Tests/TestSupport"),
        .testTarget(name: "BasicsTests", dependencies: ["Basics", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "TestSupport"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "CSNTests", dependencies: ["CSN", "TestSupport"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "TestSupport"]),
        .testTarget(name: "TUITests", dependencies: ["TUI", "CSNApp", "Runs", "TestSupport"], exclude: ["Snapshots"]),
        .testTarget(name: "RunsTests", dependencies: ["Runs", "TensorBoard", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "Basics", "CSN"]),
    ]
)
