//! Printing any answer through its descriptor, so every field shows as the contract names
//! it, with no printing code per message: as JSON (proto field names), CSV or a table.

use anyhow::Context;
use prost_reflect::{DescriptorPool, DynamicMessage, ReflectMessage, SerializeOptions, Value};

use super::Format;

fn pool() -> &'static DescriptorPool {
    static POOL: std::sync::OnceLock<DescriptorPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(assay_proto::FILE_DESCRIPTOR_SET)
            .expect("the descriptor set compiled into this binary decodes")
    })
}

/// `message` as the contract's message `name` (e.g. `assay.registry.v1.Member`).
pub(super) fn dynamic(name: &str, message: &impl prost::Message) -> anyhow::Result<DynamicMessage> {
    let descriptor = pool()
        .get_message_by_name(name)
        .with_context(|| format!("no descriptor for {name}"))?;
    Ok(DynamicMessage::decode(
        descriptor,
        message.encode_to_vec().as_slice(),
    )?)
}

fn json(message: &DynamicMessage) -> anyhow::Result<serde_json::Value> {
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false)
        .stringify_64_bit_integers(false);
    Ok(message.serialize_with_options(serde_json::value::Serializer, &options)?)
}

/// A field's value as one cell: enums by name, messages and lists as compact JSON.
fn cell(message: &DynamicMessage, field: &str) -> anyhow::Result<String> {
    let Some(descriptor) = message.descriptor().get_field_by_name(field) else {
        return Ok(String::new());
    };
    let value = message.get_field(&descriptor);
    Ok(match value.as_ref() {
        Value::String(s) => s.clone(),
        Value::EnumNumber(n) => match descriptor.kind().as_enum() {
            Some(e) => e
                .get_value(*n)
                .map_or_else(|| n.to_string(), |v| v.name().to_owned()),
            None => n.to_string(),
        },
        Value::Bool(b) => b.to_string(),
        Value::I32(n) => n.to_string(),
        Value::I64(n) => n.to_string(),
        Value::U32(n) => n.to_string(),
        Value::U64(n) => n.to_string(),
        Value::F32(n) => n.to_string(),
        Value::F64(n) => n.to_string(),
        Value::Message(date) if date.descriptor().full_name() == "assay.common.v1.Date" => {
            let part = |name: &str| {
                date.get_field_by_name(name)
                    .and_then(|v| v.as_i32())
                    .unwrap_or_default()
            };
            format!(
                "{:04}-{:02}-{:02}",
                part("year"),
                part("month"),
                part("day")
            )
        }
        _ => {
            let whole = json(message)?;
            match whole.get(field) {
                Some(serde_json::Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            }
        }
    })
}

fn fields(message: &DynamicMessage) -> Vec<String> {
    message
        .descriptor()
        .fields()
        .map(|f| f.name().to_owned())
        .collect()
}

pub(super) fn print_message(
    format: Format,
    name: &str,
    message: &impl prost::Message,
) -> anyhow::Result<()> {
    print_sections(format, &[("", dynamic(name, message)?)])
}

/// Messages one after another: as one JSON object (by section name, or the message alone),
/// or as `field value` lines (`section.field` where there are sections).
pub(super) fn print_sections(
    format: Format,
    sections: &[(&str, DynamicMessage)],
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let value = match sections {
                [("", message)] => json(message)?,
                _ => serde_json::Value::Object(
                    sections
                        .iter()
                        .map(|(name, message)| Ok(((*name).to_owned(), json(message)?)))
                        .collect::<anyhow::Result<_>>()?,
                ),
            };
            emit(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
        }
        Format::Table | Format::Csv => {
            let mut lines = Vec::new();
            for (section, message) in sections {
                for field in fields(message) {
                    let name = if section.is_empty() {
                        field.clone()
                    } else {
                        format!("{section}.{field}")
                    };
                    lines.push(vec![name, cell(message, &field)?]);
                }
            }
            print_table(format, &["field", "value"], &lines)?;
        }
    }
    Ok(())
}

/// Sections of one message each, a row per field, as [`print_sections`] prints them, with
/// each field's `label` (a heading in the reader's language) beside its name. The columns
/// are headed `header`: the field, its label, its value.
pub(super) fn print_labelled_sections(
    format: Format,
    sections: &[(&str, DynamicMessage)],
    label: impl Fn(&str) -> String,
    header: [&str; 3],
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_sections(format, sections);
    }
    let mut lines = Vec::new();
    for (section, message) in sections {
        for field in fields(message) {
            let name = format!("{section}.{field}");
            lines.push(vec![label(&name), cell(message, &field)?, name]);
        }
    }
    // The label first, where a reader looks; the field's name last, for a program.
    print_table(format, &[header[1], header[2], header[0]], &lines)
}

/// Messages of one kind, a row each, in `columns` (all of them as JSON).
pub(super) fn print_rows(
    format: Format,
    name: &str,
    messages: &[impl prost::Message],
    columns: &[&str],
) -> anyhow::Result<()> {
    let messages = messages
        .iter()
        .map(|m| dynamic(name, m))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if format == Format::Json {
        let all = messages
            .iter()
            .map(json)
            .collect::<anyhow::Result<Vec<_>>>()?;
        emit(&format!("{}\n", serde_json::to_string_pretty(&all)?))?;
        return Ok(());
    }
    let lines = messages
        .iter()
        .map(|m| columns.iter().map(|c| cell(m, c)).collect())
        .collect::<anyhow::Result<Vec<Vec<String>>>>()?;
    print_table(format, columns, &lines)
}

fn print_table(format: Format, header: &[&str], lines: &[Vec<String>]) -> anyhow::Result<()> {
    if format == Format::Csv {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(header)?;
        for line in lines {
            out.write_record(line)?;
        }
        return emit(&String::from_utf8(out.into_inner()?)?);
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for line in lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut row = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        text.push_str(padded.join("  ").trim_end());
        text.push('\n');
    };
    row(header.to_vec());
    for line in lines {
        row(line.iter().map(String::as_str).collect());
    }
    emit(&text)
}

/// Writes to standard output; a reader that went away (`| head`) is no error.
pub(super) fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}
