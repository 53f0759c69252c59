//! The library's enums as command-line choices. The domain types know nothing of clap; each is
//! offered here under the name users type, with its one-line description as help.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::export::Format;
use crate::law::Form;
use crate::law_file::ParamCount;
use crate::plot::Figure;

macro_rules! choice {
    ($t:ty, $name:expr, $help:expr $(, $alias:expr)?) => {
        impl ValueEnum for $t {
            fn value_variants<'a>() -> &'a [Self] {
                &<$t>::ALL
            }
            fn to_possible_value(&self) -> Option<PossibleValue> {
                let (name, help): (fn($t) -> &'static str, fn($t) -> &'static str) = ($name, $help);
                let value = PossibleValue::new(name(*self)).help(help(*self));
                $(
                    let alias: fn($t) -> &'static str = $alias;
                    let value = match alias(*self) {
                        a if a != name(*self) => value.alias(a),
                        _ => value,
                    };
                )?
                Some(value)
            }
        }
    };
}

choice!(Form, Form::name, Form::describe);
choice!(Format, Format::name, Format::describe);
choice!(ParamCount, ParamCount::name, ParamCount::describe);
// A figure is also chosen by its files' name (`n_and_d` as `n-and-d`).
choice!(Figure, Figure::name, Figure::describe, Figure::stem);
