/// The four models the paper compares.
public enum ModelKind: String, Codable, Sendable, CaseIterable {
    /// One triplet network; every triplet is treated as the same notion of similarity (no masks).
    case standard
    /// K separate networks, each trained only on its own condition's triplets.
    case taskSpecific = "task-specific"
    /// One network; fixed disjoint masks of D/K dimensions per condition (1 inside, 0 outside).
    case csnFixed = "csn-fixed"
    /// One network; masks m_c = ReLU(beta_c) learned with it.
    case csnLearned = "csn-learned"
}

/// How learned masks start: beta ~ N(0.9, 0.7) as in the paper, or the fixed disjoint blocks.
public enum MaskInitialization: String, Codable, Sendable, CaseIterable {
    /// N(mean, std) (the paper's start), the fixed disjoint blocks, or U(0, 1) (every dimension
    /// starts in every mask, with random weight).
    case normal, disjoint, uniform
}
