//! Shared helpers of the cross-component tests.
