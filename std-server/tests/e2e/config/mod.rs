//! The settings file and the command line.

mod settings;
mod startup;
