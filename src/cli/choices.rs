//! The library's enums as command-line choices. The domain types know nothing of clap; each is
//! offered here under the name users type, with its one-line description as help.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::export::Format;
use crate::law::Form;
use crate::law_file::ParamCount;
use crate::plot::Figure;

macro_rules! choice {
    ($t:ty, $name:expr, $help:expr) => {
        impl ValueEnum for $t {
            fn value_variants<'a>() -> &'a [Self] {
                &<$t>::ALL
            }
            fn to_possible_value(&self) -> Option<PossibleValue> {
                let (name, help): (fn($t) -> &'static str, fn($t) -> &'static str) = ($name, $help);
                Some(PossibleValue::new(name(*self)).help(help(*self)))
            }
        }
    };
}

choice!(Form, Form::name, Form::describe);
choice!(Format, Format::name, Format::describe);
choice!(ParamCount, ParamCount::name, ParamCount::describe);
choice!(Figure, Figure::name, Figure::describe);
