//! Provider presets (being written).
