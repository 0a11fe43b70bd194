//! The interpreter workload: a tiny Lisp (parser, environments with parent links, function
//! calls) with regions at its hotspots. Shared by `examples/dhat_profile.rs` and
//! `benches/profile_overhead.rs` (each includes it with `#[path]`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// An expression of the language: a small Lisp.
#[derive(Debug, Clone)]
enum Expr {
    Num(i64),
    Sym(String),
    List(Vec<Expr>),
}

/// A value at run time.
#[derive(Clone)]
enum Value {
    Num(i64),
    Nil,
    Pair(Rc<(Value, Value)>),
    Lambda(Rc<Lambda>),
    Builtin(Builtin),
}

/// A function of the language written in Rust.
type Builtin = fn(&[Value]) -> Result<Value, String>;

struct Lambda {
    params: Vec<String>,
    body: Expr,
    env: Rc<Environment>,
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Num(n) => write!(f, "{n}"),
            Value::Nil => write!(f, "nil"),
            Value::Pair(p) => write!(f, "({} . {})", p.0, p.1),
            Value::Lambda(_) => write!(f, "<lambda>"),
            Value::Builtin(_) => write!(f, "<builtin>"),
        }
    }
}

/// Variables, with a link to the enclosing environment.
struct Environment {
    vars: RefCell<HashMap<String, Value>>,
    parent: Option<Rc<Environment>>,
}

impl Environment {
    fn new(parent: Option<Rc<Environment>>) -> Rc<Environment> {
        dhat_kit::region!("Environment::new");
        Rc::new(Environment {
            vars: RefCell::new(HashMap::new()),
            parent,
        })
    }

    fn new_global() -> Rc<Environment> {
        dhat_kit::region!("Environment::new_global");
        let env = Environment::new(None);
        let builtins: [(&str, Builtin); 9] = [
            ("+", |a| arith(a, |x, y| x + y)),
            ("-", |a| arith(a, |x, y| x - y)),
            ("*", |a| arith(a, |x, y| x * y)),
            ("<", |a| compare(a, |x, y| x < y)),
            ("=", |a| compare(a, |x, y| x == y)),
            ("nil?", |a| match a {
                [Value::Nil] => Ok(Value::Num(1)),
                [_] => Ok(Value::Num(0)),
                _ => Err("nil? takes 1 argument".into()),
            }),
            ("cons", |a| match a {
                [x, y] => Ok(Value::Pair(Rc::new((x.clone(), y.clone())))),
                _ => Err("cons takes 2 arguments".into()),
            }),
            ("car", |a| match a {
                [Value::Pair(p)] => Ok(p.0.clone()),
                _ => Err("car takes a pair".into()),
            }),
            ("cdr", |a| match a {
                [Value::Pair(p)] => Ok(p.1.clone()),
                _ => Err("cdr takes a pair".into()),
            }),
        ];
        for (name, f) in builtins {
            env.define(name, Value::Builtin(f));
        }
        env.define("nil", Value::Nil);
        env
    }

    fn new_child_env(
        parent: &Rc<Environment>,
        params: &[String],
        args: Vec<Value>,
    ) -> Rc<Environment> {
        dhat_kit::region!("Environment::new_child_env");
        let env = Environment::new(Some(Rc::clone(parent)));
        for (p, a) in params.iter().zip(args) {
            env.define(p, a);
        }
        env
    }

    fn define(&self, name: &str, value: Value) {
        self.vars.borrow_mut().insert(name.to_owned(), value);
    }

    fn lookup(&self, name: &str) -> Option<Value> {
        match self.vars.borrow().get(name) {
            Some(v) => Some(v.clone()),
            None => self.parent.as_ref()?.lookup(name),
        }
    }
}

fn numbers(args: &[Value]) -> Result<(i64, i64), String> {
    match args {
        [Value::Num(x), Value::Num(y)] => Ok((*x, *y)),
        _ => Err("expected two numbers".into()),
    }
}

fn arith(args: &[Value], op: fn(i64, i64) -> i64) -> Result<Value, String> {
    numbers(args).map(|(x, y)| Value::Num(op(x, y)))
}

fn compare(args: &[Value], op: fn(i64, i64) -> bool) -> Result<Value, String> {
    numbers(args).map(|(x, y)| Value::Num(i64::from(op(x, y))))
}

/// Tokens to expressions.
fn parse(src: &str) -> Result<Vec<Expr>, String> {
    dhat_kit::region!("parse");
    let spaced = src.replace('(', " ( ").replace(')', " ) ");
    let mut tokens = spaced.split_whitespace().peekable();
    let mut out = Vec::new();
    while tokens.peek().is_some() {
        out.push(parse_expr(&mut tokens)?);
    }
    Ok(out)
}

fn parse_expr<'a>(
    tokens: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>,
) -> Result<Expr, String> {
    match tokens.next() {
        Some("(") => {
            let mut items = Vec::new();
            while tokens.peek() != Some(&")") {
                if tokens.peek().is_none() {
                    return Err("missing )".into());
                }
                items.push(parse_expr(tokens)?);
            }
            tokens.next();
            Ok(Expr::List(items))
        }
        Some(")") => Err("unexpected )".into()),
        Some(t) => Ok(t
            .parse()
            .map_or_else(|_| Expr::Sym(t.to_owned()), Expr::Num)),
        None => Err("unexpected end".into()),
    }
}

struct Interpreter {
    global: Rc<Environment>,
    calls: u64,
}

impl Interpreter {
    fn new() -> Interpreter {
        Interpreter {
            global: Environment::new_global(),
            calls: 0,
        }
    }

    fn eval(&mut self, e: &Expr, env: &Rc<Environment>) -> Result<Value, String> {
        match e {
            Expr::Num(n) => Ok(Value::Num(*n)),
            Expr::Sym(s) => env.lookup(s).ok_or_else(|| format!("unbound {s}")),
            Expr::List(items) => match items.as_slice() {
                [Expr::Sym(k), Expr::Sym(name), value] if k == "define" => {
                    let v = self.eval(value, env)?;
                    env.define(name, v);
                    Ok(Value::Nil)
                }
                [Expr::Sym(k), Expr::List(params), body] if k == "lambda" => {
                    let params = params
                        .iter()
                        .map(|p| match p {
                            Expr::Sym(s) => Ok(s.clone()),
                            _ => Err("parameters are symbols".to_string()),
                        })
                        .collect::<Result<_, _>>()?;
                    Ok(Value::Lambda(Rc::new(Lambda {
                        params,
                        body: body.clone(),
                        env: Rc::clone(env),
                    })))
                }
                [Expr::Sym(k), cond, then, other] if k == "if" => match self.eval(cond, env)? {
                    Value::Num(0) | Value::Nil => self.eval(other, env),
                    _ => self.eval(then, env),
                },
                [f, args @ ..] => {
                    let f = self.eval(f, env)?;
                    let args = args
                        .iter()
                        .map(|a| self.eval(a, env))
                        .collect::<Result<Vec<_>, _>>()?;
                    self.call_function(&f, args)
                }
                [] => Ok(Value::Nil),
            },
        }
    }

    fn call_function(&mut self, f: &Value, args: Vec<Value>) -> Result<Value, String> {
        dhat_kit::region!("Interpreter::call_function");
        self.calls += 1;
        match f {
            Value::Builtin(b) => b(&args),
            Value::Lambda(l) => {
                let env = Environment::new_child_env(&l.env, &l.params, args);
                self.eval(&l.body, &env)
            }
            other => Err(format!("{other} is not a function")),
        }
    }
}

const PROGRAM: &str = "
(define fib (lambda (n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))))
(define range (lambda (n) (if (= n 0) nil (cons n (range (- n 1))))))
(define sum (lambda (l) (if (nil? l) 0 (+ (car l) (sum (cdr l))))))
(define len (lambda (l acc) (if (nil? l) acc (len (cdr l) (+ acc 1)))))
";

/// Runs the built-in program at `size`: `(fib size)` and a list of `size * 10`. Returns the last
/// value printed and the number of calls.
pub fn run(size: i64) -> (String, u64) {
    let src = format!("{PROGRAM}(fib {size}) (len (range {}) 0)", size * 10);
    let program = parse(&src).expect("the built-in program parses");
    let mut interp = Interpreter::new();
    let global = Rc::clone(&interp.global);
    let mut last = Value::Nil;
    for e in &program {
        last = interp.eval(e, &global).expect("the built-in program runs");
    }
    (last.to_string(), interp.calls)
}
