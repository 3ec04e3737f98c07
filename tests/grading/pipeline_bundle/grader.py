def grade(outputs, private, run):
    value = outputs.json("answer.json")["value"]
    expected = int((private / "expected.txt").read_text())
    passed = value == expected
    return [
        {
            "name": "answer",
            "score": 10 if passed else 0,
            "status": "passed" if passed else "failed",
            "output": f"the answer was {value}",
        }
    ]
