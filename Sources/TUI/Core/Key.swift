/// A key press, decoded once so that the app handles input in one place.
public enum Key: Equatable, Sendable {
    case character(Character)
    case up, down, left, right
    case tab, backTab, enter, escape, backspace
    /// The terminal changed size.
    case resize
}
