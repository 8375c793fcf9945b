//! Storage backends of the gpconnect storage port (in progress).
