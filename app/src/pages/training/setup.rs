//! Training setup, for the quality manager: the requirements and the curricula, a new
//! requirement (reading a document, a quiz with its questions and right answers, a classroom
//! session or an on-the-job sign-off), and a requirement added to a role's or a department's
//! curriculum, which assigns it at once to everyone it now applies to.

use leptos::prelude::*;
use shared::auth::Role;
use shared::document::DocumentId;
use shared::org::DepartmentId;
use shared::training::{CurriculumLine, Question, Quiz, RequirementId, RequirementInput, RequirementKind};

use crate::api::{self, ApiError};
use crate::components::field::error_lines;
use crate::components::status::loaded;
use crate::session::changes_of;

/// Whether the `<details>` a toggle event came from is open.
fn details_open(ev: &leptos::ev::Event) -> bool {
    ev.target()
        .and_then(|t| js_sys::Reflect::get(&t, &wasm_bindgen::JsValue::from_str("open")).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// `/training/setup`
#[component]
pub fn TrainingSetup() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let lines = changes_of("curriculum_line");
    let requirements = changes_of("training_requirement");
    // The forms' state lives outside the part that reloads when someone changes a requirement
    // or a curriculum: a live update must not close or empty the form being filled in.
    let new_form = NewForm::new();
    let line_form = LineForm {
        open: RwSignal::new(false),
        requirement: RwSignal::new(None),
        who: RwSignal::new(format!("role:{}", Role::Staff.as_str())),
        problems: RwSignal::new(Vec::new()),
        saved: RwSignal::new(false),
    };
    let data = crate::data::resource(move || {
        reload.track();
        lines.track();
        requirements.track();
        async move {
            Ok((
                api::training_requirements().await?,
                api::list_curriculum().await?,
                api::list_departments(false).await?,
                api::list_documents().await?,
            ))
        }
    });
    view! {
        <section>
            <header class="page-head"><h1>"Requirements and curricula"</h1></header>
            {loaded(data, "the requirements", move |(requirements, curriculum, departments, documents)| {
                let reqs = requirements.clone();
                view! {
                    <NewRequirement documents=documents.iter().map(|d| (d.id, format!("{} {}", d.number, d.title))).collect() reload form=new_form />
                    <AddLine requirements=reqs.iter().map(|r| (r.id, r.title.clone())).collect()
                        departments=departments.iter().map(|d| (d.id, d.name.clone())).collect() reload form=line_form />
                    <h2>"Requirements"</h2>
                    <table class="grid" aria-label="Requirements">
                        <thead><tr>
                            <th scope="col">"Title"</th><th scope="col">"How"</th><th scope="col">"Document"</th>
                            <th scope="col">"Quiz"</th><th scope="col">"Every"</th><th scope="col">"Days to complete"</th>
                        </tr></thead>
                        <tbody>
                            {requirements.into_iter().map(|r| view! {
                                <tr data-testid="requirement-row">
                                    <td>{r.title.clone()}</td>
                                    <td>{r.kind.label()}</td>
                                    <td class="nowrap">{r.document_number.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td>{if r.questions > 0 { format!("{} questions, pass {} %", r.questions, r.pass_mark) } else { "—".into() }}</td>
                                    <td>{r.recurrence_months.map(|m| format!("{m} months")).unwrap_or_else(|| "once".into())}</td>
                                    <td>{r.completion_days}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <h2>"Curricula"</h2>
                    <table class="grid" aria-label="Curricula">
                        <thead><tr><th scope="col">"Requirement"</th><th scope="col">"Everyone"</th></tr></thead>
                        <tbody>
                            {curriculum.into_iter().map(|c| view! {
                                <tr data-testid="curriculum-row">
                                    <td>{c.requirement_title.clone()}</td>
                                    <td>{match (c.role, c.department_name.clone()) {
                                        (Some(r), _) => format!("with the {} role", r.label()),
                                        (None, Some(d)) => format!("in {d}"),
                                        _ => String::new(),
                                    }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
            })}
        </section>
    }
}

/// The new-requirement form's state, kept outside the part of the page that reloads.
#[derive(Clone, Copy)]
struct NewForm {
    open: RwSignal<bool>,
    title: RwSignal<String>,
    kind: RwSignal<RequirementKind>,
    document: RwSignal<Option<DocumentId>>,
    days: RwSignal<String>,
    every: RwSignal<String>,
    quiz: QuizDraft,
    problems: RwSignal<Vec<String>>,
    saved: RwSignal<bool>,
}

impl NewForm {
    fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            title: RwSignal::new(String::new()),
            kind: RwSignal::new(RequirementKind::ReadAndUnderstand),
            document: RwSignal::new(None),
            days: RwSignal::new("14".into()),
            every: RwSignal::new(String::new()),
            quiz: QuizDraft::new(),
            problems: RwSignal::new(Vec::new()),
            saved: RwSignal::new(false),
        }
    }
}

/// The field errors as lines, with the quiz's fields as they are numbered on screen
/// (`quiz.questions[0].options[1]` is "Question 1, option 2").
fn readable(errors: &shared::FieldErrors) -> Vec<String> {
    error_lines(errors)
        .into_iter()
        .map(|line| match line.split_once(": ") {
            Some((field, text)) if field.starts_with("quiz.") => format!("{}: {text}", quiz_field(field)),
            _ => line,
        })
        .collect()
}

/// A quiz field's name as shown.
fn quiz_field(field: &str) -> String {
    let parts: Vec<String> = field
        .split('.')
        .filter(|p| *p != "quiz")
        .map(|part| match part.split_once('[') {
            Some((name, rest)) => {
                let n = rest.trim_end_matches(']').parse::<usize>().map(|i| i + 1).unwrap_or(0);
                match name {
                    "questions" => format!("Question {n}"),
                    "options" => format!("option {n}"),
                    other => format!("{other} {n}"),
                }
            }
            None => match part {
                "text" => "its text".into(),
                "options" => "its options (2 to 10)".into(),
                "correct" => "the right answers".into(),
                "questions" => "Questions".into(),
                "pass_mark" => "Pass mark (1–100 %)".into(),
                "attempts_allowed" => "Attempts per round (1–10)".into(),
                other => other.into(),
            },
        })
        .collect();
    parts.join(", ")
}

/// A question being written: its text, and its options with the ones that are right. The keys
/// keep each input in place (and its focus) while others are added or removed.
#[derive(Clone, Debug, PartialEq)]
struct QuestionDraft {
    key: u32,
    text: String,
    options: Vec<(u32, String, bool)>,
}

/// The quiz being written.
#[derive(Clone, Copy)]
struct QuizDraft {
    questions: RwSignal<Vec<QuestionDraft>>,
    pass_mark: RwSignal<String>,
    attempts: RwSignal<String>,
    next_key: StoredValue<u32>,
}

impl QuizDraft {
    fn new() -> Self {
        let draft = Self {
            questions: RwSignal::new(Vec::new()),
            pass_mark: RwSignal::new("80".into()),
            attempts: RwSignal::new("3".into()),
            next_key: StoredValue::new(0),
        };
        draft.add_question();
        draft
    }

    fn key(self) -> u32 {
        self.next_key.update_value(|k| *k += 1);
        self.next_key.get_value()
    }

    fn add_question(self) {
        let (q, a, b) = (self.key(), self.key(), self.key());
        self.questions.update(|qs| {
            qs.push(QuestionDraft {
                key: q,
                text: String::new(),
                options: vec![(a, String::new(), false), (b, String::new(), false)],
            })
        });
    }

    fn add_option(self, question: u32) {
        let k = self.key();
        self.edit(question, |q| q.options.push((k, String::new(), false)));
    }

    fn edit(self, question: u32, f: impl FnOnce(&mut QuestionDraft)) {
        self.questions.update(|qs| {
            if let Some(q) = qs.iter_mut().find(|q| q.key == question) {
                f(q);
            }
        });
    }

    /// The quiz as the API takes it.
    fn quiz(self) -> Quiz {
        Quiz {
            questions: self.questions.with(|qs| {
                qs.iter()
                    .map(|q| Question {
                        text: q.text.clone(),
                        options: q.options.iter().map(|o| o.1.clone()).collect(),
                        correct: q.options.iter().enumerate().filter(|(_, o)| o.2).map(|(i, _)| i as u32).collect(),
                    })
                    .collect()
            }),
            pass_mark: self.pass_mark.get().trim().parse().unwrap_or(0),
            attempts_allowed: self.attempts.get().trim().parse().unwrap_or(0),
        }
    }

    fn clear(self) {
        self.questions.set(Vec::new());
        self.add_question();
    }
}

/// The curriculum form's state, kept outside the part of the page that reloads.
#[derive(Clone, Copy)]
struct LineForm {
    open: RwSignal<bool>,
    requirement: RwSignal<Option<RequirementId>>,
    who: RwSignal<String>,
    problems: RwSignal<Vec<String>>,
    saved: RwSignal<bool>,
}

#[component]
fn NewRequirement(documents: Vec<(DocumentId, String)>, reload: RwSignal<u32>, form: NewForm) -> impl IntoView {
    let NewForm { open, title, kind, document, days, every, quiz, problems, saved } = form;
    let save = crate::data::action(move |input: &RequirementInput| {
        let input = input.clone();
        async move {
            match api::create_requirement(&input).await {
                Ok(_) => {
                    saved.set(true);
                    problems.set(Vec::new());
                    title.set(String::new());
                    quiz.clear();
                    reload.update(|n| *n += 1);
                }
                Err(ApiError::Status(_, body)) => problems.set(readable(&body.field_errors)),
                Err(e) => problems.set(vec![e.to_string()]),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let input = RequirementInput {
            title: title.get(),
            kind: kind.get(),
            document_id: document.get(),
            quiz: (kind.get() == RequirementKind::Quiz).then(|| quiz.quiz()),
            recurrence_months: every.get().trim().parse().ok(),
            completion_days: days.get().trim().parse().unwrap_or(0),
        }
        .normalized();
        match input.validate() {
            Ok(()) => {
                save.dispatch(input);
            }
            Err(e) => problems.set(readable(&e)),
        }
    };
    let kinds = RequirementKind::ALL;
    view! {
        <details class="create" prop:open=move || open.get_untracked() on:toggle=move |ev| open.set(details_open(&ev))>
            <summary>"New requirement"</summary>
            <form class="form form-inline" on:submit=on_submit novalidate>
                <label class="field-inline">"Title " <input prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) /></label>
                <label class="field-inline">"How "
                    <select on:change=move |ev| if let Some(k) = RequirementKind::parse(&event_target_value(&ev)) { kind.set(k) }>
                        {kinds.into_iter().map(|k| view! { <option value=k.as_str() selected=move || kind.get() == k>{k.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field-inline">"Document "
                    <select on:change=move |ev| document.set(event_target_value(&ev).parse::<i64>().ok().map(DocumentId))>
                        <option value="">"None"</option>
                        {documents.into_iter().map(|(id, name)| view! { <option value=id.0.to_string() selected=move || document.get() == Some(id)>{name}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field-inline">"Days to complete " <input inputmode="numeric" prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev)) /></label>
                <label class="field-inline">"Every (months) " <input inputmode="numeric" placeholder="once" prop:value=move || every.get() on:input=move |ev| every.set(event_target_value(&ev)) /></label>
                {move || (kind.get() == RequirementKind::Quiz).then(|| view! { <QuizEditor quiz /> })}
                <button type="submit" class="btn btn-primary">"Create requirement"</button>
                {move || saved.get().then(|| view! { <span class="alert-ok" role="status">"Created."</span> })}
                {move || (!problems.get().is_empty()).then(|| view! {
                    <ul class="alert alert-error" role="alert">{problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                })}
            </form>
        </details>
    }
}

#[component]
fn AddLine(
    requirements: Vec<(RequirementId, String)>,
    departments: Vec<(DepartmentId, String)>,
    reload: RwSignal<u32>,
    form: LineForm,
) -> impl IntoView {
    let LineForm { open, requirement, who, problems, saved } = form;
    if requirement.get_untracked().is_none() {
        requirement.set(requirements.first().map(|r| r.0));
    }
    let add = crate::data::action(move |line: &CurriculumLine| {
        let line = line.clone();
        async move {
            match api::add_curriculum_line(&line).await {
                Ok(_) => {
                    saved.set(true);
                    problems.set(Vec::new());
                    reload.update(|n| *n += 1);
                }
                Err(ApiError::Status(_, body)) if !body.field_errors.is_empty() => {
                    problems.set(error_lines(&body.field_errors))
                }
                Err(e) => problems.set(vec![e.to_string()]),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let Some(requirement_id) = requirement.get() else {
            problems.set(vec!["requirement_id: required".into()]);
            return;
        };
        let w = who.get();
        let line = CurriculumLine {
            requirement_id,
            role: w.strip_prefix("role:").and_then(Role::parse),
            department_id: w.strip_prefix("dept:").and_then(|d| d.parse().ok()).map(DepartmentId),
        };
        match line.validate() {
            Ok(()) => {
                add.dispatch(line);
            }
            Err(e) => problems.set(error_lines(&e)),
        }
    };
    view! {
        <details class="create" prop:open=move || open.get_untracked() on:toggle=move |ev| open.set(details_open(&ev))>
            <summary>"Add to a curriculum"</summary>
            <p class="muted">"Everyone it then applies to who is not trained is assigned it at once."</p>
            <form class="form form-inline" on:submit=on_submit novalidate>
                <label class="field-inline">"Requirement "
                    <select on:change=move |ev| requirement.set(event_target_value(&ev).parse::<i64>().ok().map(RequirementId))>
                        {requirements.into_iter().map(|(id, title)| view! { <option value=id.0.to_string() selected=move || requirement.get() == Some(id)>{title}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field-inline">"Everyone "
                    <select on:change=move |ev| who.set(event_target_value(&ev))>
                        {Role::ALL.into_iter().map(|r| {
                            let value = format!("role:{}", r.as_str());
                            let chosen = value.clone();
                            view! { <option value=value selected=move || who.get() == chosen>{format!("with the {} role", r.label())}</option> }
                        }).collect_view()}
                        {departments.into_iter().map(|(id, name)| {
                            let value = format!("dept:{}", id.0);
                            let chosen = value.clone();
                            view! { <option value=value selected=move || who.get() == chosen>{format!("in {name}")}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="btn btn-primary">"Add"</button>
                {move || saved.get().then(|| view! { <span class="alert-ok" role="status">"Added; assigned."</span> })}
                {move || (!problems.get().is_empty()).then(|| view! {
                    <ul class="alert alert-error" role="alert">{problems.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                })}
            </form>
        </details>
    }
}

/// The quiz's questions, options and right answers, its pass mark and attempts. Field errors
/// name `quiz.questions[i].options[j]` and so on; the questions and options are numbered the
/// same way (from 1) on screen.
#[component]
fn QuizEditor(quiz: QuizDraft) -> impl IntoView {
    let keys = move || quiz.questions.with(|qs| qs.iter().map(|q| q.key).collect::<Vec<_>>());
    let position = move |key: u32| quiz.questions.with(|qs| qs.iter().position(|q| q.key == key).unwrap_or(0));
    view! {
        <fieldset class="quiz-editor">
            <legend>"Quiz"</legend>
            <label class="field-inline">"Pass mark (%) " <input inputmode="numeric" name="pass_mark" prop:value=move || quiz.pass_mark.get() on:input=move |ev| quiz.pass_mark.set(event_target_value(&ev)) /></label>
            <label class="field-inline">"Attempts per round " <input inputmode="numeric" name="attempts_allowed" prop:value=move || quiz.attempts.get() on:input=move |ev| quiz.attempts.set(event_target_value(&ev)) /></label>
            <For each=keys key=|k| *k let:qkey>
                {
                    let text = move || quiz.questions.with(|qs| qs.iter().find(|q| q.key == qkey).map(|q| q.text.clone()).unwrap_or_default());
                    let options = move || quiz.questions.with(|qs| qs.iter().find(|q| q.key == qkey).map(|q| q.options.iter().map(|o| o.0).collect::<Vec<_>>()).unwrap_or_default());
                    let number = move || position(qkey) + 1;
                    view! {
                        <div class="question-draft" data-testid="question-draft">
                            <label class="field">{move || format!("Question {}", number())}
                                <textarea rows="2" prop:value=text on:input=move |ev| { let v = event_target_value(&ev); quiz.edit(qkey, |q| q.text = v) }></textarea>
                            </label>
                            <p class="muted">"Tick every right answer (one or several)."</p>
                            <For each=options key=|k| *k let:okey>
                                {
                                    let find = move || quiz.questions.with(|qs| qs.iter().find(|q| q.key == qkey).and_then(|q| q.options.iter().position(|o| o.0 == okey).map(|i| (i, q.options[i].1.clone(), q.options[i].2))));
                                    let n = move || find().map(|f| f.0 + 1).unwrap_or(0);
                                    view! {
                                        <div class="option-draft">
                                            <label class="field-inline">
                                                <input type="checkbox" prop:checked=move || find().is_some_and(|f| f.2)
                                                    on:change=move |ev| { let on = event_target_checked(&ev); quiz.edit(qkey, |q| if let Some(o) = q.options.iter_mut().find(|o| o.0 == okey) { o.2 = on }) } />
                                                {move || format!(" Right: option {}", n())}
                                            </label>
                                            <label class="field-inline">
                                                <span class="sr-only">{move || format!("Question {}, option {}", number(), n())}</span>
                                                <input prop:value=move || find().map(|f| f.1).unwrap_or_default() placeholder=move || format!("Option {}", n())
                                                    on:input=move |ev| { let v = event_target_value(&ev); quiz.edit(qkey, |q| if let Some(o) = q.options.iter_mut().find(|o| o.0 == okey) { o.1 = v }) } />
                                            </label>
                                            <button type="button" class="btn btn-small" aria-label=move || format!("Remove option {} of question {}", n(), number())
                                                on:click=move |_| quiz.edit(qkey, |q| q.options.retain(|o| o.0 != okey))>"Remove"</button>
                                        </div>
                                    }
                                }
                            </For>
                            <div class="actions">
                                <button type="button" class="btn btn-small" on:click=move |_| quiz.add_option(qkey)>"Add an option"</button>
                                <button type="button" class="btn btn-small" aria-label=move || format!("Remove question {}", number())
                                    on:click=move |_| quiz.questions.update(|qs| qs.retain(|q| q.key != qkey))>"Remove question"</button>
                            </div>
                        </div>
                    }
                }
            </For>
            <button type="button" class="btn" on:click=move |_| quiz.add_question()>"Add a question"</button>
        </fieldset>
    }
}

/// The set-up and the class sessions, a chunk of their own (see [`crate::area`]).
pub mod admin {
    crate::area!(training_admin, Page { Setup => super::TrainingSetup, Sessions => super::super::sessions::ClassSessions });
}
