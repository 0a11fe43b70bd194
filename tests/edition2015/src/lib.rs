//! Nothing: the package's tests (`tests/attributes.rs`) use dhat-kit as a crate of the 2015
//! edition does.
