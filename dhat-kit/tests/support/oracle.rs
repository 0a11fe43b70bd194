//! The oracle of a profile read, shared by `cli_fuzz.rs` and the fuzz targets (`fuzz/`): what the
//! reader accepted is JSON, read independently (`serde_json::Value`), holding every field of the
//! model.

use dhat_kit::profile;

/// What the reader accepted is JSON, and every field of the model is the one that JSON holds.
pub fn agrees_with_json(bytes: &[u8], p: &profile::Profile) {
    // The reader skips a leading byte-order mark, as JSON readers may; serde_json does not.
    let json = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // The reader parses each value on its own, so serde_json's limit of 128 nested values counts
    // from the value there, and from the file here: a file beyond it is JSON all the same.
    let v: serde_json::Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => return,
        Err(e) => panic!("what reads is JSON: {e}"),
    };
    let text = |k: &str| v[k].as_str().map(str::to_owned);
    assert_eq!(v["dhatFileVersion"].as_u64(), Some(2));
    assert_eq!(text("mode"), Some(p.mode.clone()));
    assert_eq!(text("verb"), Some(p.verb.clone()));
    assert_eq!(text("cmd"), Some(p.cmd.clone()));
    assert_eq!(v["bklt"].as_bool(), Some(p.bklt));
    assert_eq!(v["bkacc"].as_bool(), Some(p.bkacc));
    assert_eq!(v["pid"].as_u64(), Some(p.pid));
    assert_eq!(v["te"].as_u64(), Some(p.te));
    assert_eq!(v["tg"].as_u64(), p.tg);
    assert_eq!(v["tuth"].as_u64(), p.tuth);
    assert_eq!(text("bsu"), p.bsu);
    let ftbl: Vec<&str> = v["ftbl"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(ftbl, p.ftbl.iter().map(|f| &**f).collect::<Vec<_>>());
    let pps = v["pps"].as_array().unwrap();
    assert_eq!(pps.len(), p.pps.len());
    for (json, pp) in pps.iter().zip(&p.pps) {
        let n = |k: &str| json.get(k).map_or(0, |x| x.as_u64().unwrap());
        let figures = [
            n("tb"),
            n("tbk"),
            n("tl"),
            n("mb"),
            n("mbk"),
            n("gb"),
            n("gbk"),
            n("eb"),
            n("ebk"),
            n("rb"),
            n("wb"),
        ];
        let model = [
            pp.tb, pp.tbk, pp.tl, pp.mb, pp.mbk, pp.gb, pp.gbk, pp.eb, pp.ebk, pp.rb, pp.wb,
        ];
        assert_eq!(figures, model);
        let fs: Vec<u32> = json["fs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(fs, &*pp.fs);
        let acc = json.get("acc").map(|a| {
            a.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap())
                .collect::<Vec<_>>()
        });
        assert_eq!(acc.as_deref(), pp.acc.as_deref());
    }
}
