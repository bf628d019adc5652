"""The package's one error type: a sentence a person can act on, naming the file or option at fault."""


class CSNTorchError(Exception):
    """Raised for bad input (files, options, checkpoints); the command line prints it and exits 1."""

    @classmethod
    def file(cls, path: str, message: str) -> "CSNTorchError":
        # The same "PATH: message" form as csn's CSNError.file.
        return cls(f"{path}: {message}")
