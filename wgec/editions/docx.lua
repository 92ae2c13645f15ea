-- The Word edition (wgec/docx.py): what pandoc's HTML reader cannot know from the print HTML.

-- A source note, written in place as <span class="fn"> (as for the PDF), becomes a real
-- Word footnote.
function Span(el)
  if el.classes:includes("fn") then
    return pandoc.Note(pandoc.Para(el.content))
  end
end

-- A numbered paragraph starts with its number: "12." and a tab to the text column
-- (the "Numbered Paragraph" style hangs the number 1 cm).
function Para(el)
  local first = el.content[1]
  if first and first.t == "Span" and first.classes:includes("un-para-num") then
    local content = pandoc.List(first.content)
    while #content > 0 and (content[#content].t == "Space" or content[#content].t == "SoftBreak") do
      content:remove()  -- the print HTML keeps the space after the number inside its box
    end
    content:insert(pandoc.RawInline("openxml", "<w:r><w:tab/></w:r>"))
    local i = 2
    while el.content[i] and (el.content[i].t == "Space" or el.content[i].t == "SoftBreak") do
      i = i + 1
    end
    for j = i, #el.content do
      content:insert(el.content[j])
    end
    return pandoc.Para(content)
  end
end
