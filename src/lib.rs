//! `viopay-check`: the conformance harness for the VioPay POS activation API.
